//! Appending: validating a batch of ops, writing it in one append at the
//! tail (rolled back on any error), and publishing it in one index update.
//! Groups (async group commit) fail alone.

use super::Store;
use crate::batch::{self, Encoder};
use crate::error::{Error, Result};
use crate::format::TOMBSTONE;
use crate::locks::{read, write};
use crate::ops::{Applied, Group, Op};
use crate::writer::Writer;
use std::borrow::Cow;
use std::io;
use std::sync::atomic::Ordering;

impl Store {
    /// Appends a batch in one write and publishes it in one index update.
    /// All-or-nothing: every op is validated before any byte is written.
    /// A `[0x00]` payload is written as a tombstone only with `allow_null`.
    /// Returns the tail after the batch.
    pub fn apply(&self, ops: &[Op<'_>], allow_null: bool) -> Result<u64> {
        self.validate(ops, allow_null)?;
        // One put by key (a single write: the common case) expands on the stack.
        let one;
        let ops = match ops {
            [op @ Op::KeyedPut(h, key, p)] if self.records_keys() && *p != TOMBSTONE => {
                one = [Op::Record(*h, key), *op];
                Cow::Borrowed(&one[..])
            }
            _ => expand(self.records_keys(), ops),
        };
        let mut w = self.writer()?;
        let tails = self.append(&mut w, &ops)?;
        Ok(tails.last().copied().unwrap_or(w.tail))
    }

    /// Group commit: appends several independent groups of `ops` in ONE
    /// write, one index update and (when durable) one fsync. Group `g` is
    /// `ops[groups[g - 1].end..groups[g].end]` (the first starts at 0); each
    /// is validated on its own and stays all-or-nothing: an invalid group is
    /// left out without failing the others. Nothing is allocated per group
    /// beyond its tail, and when every group is valid the ops are written
    /// from `ops` itself (a flush of 10,000 async writes in a fresh process
    /// paid ~2 µs per fresh page of the per-group lists this replaced).
    pub fn apply_groups(&self, ops: &[Op<'_>], groups: &[Group]) -> Applied {
        let mut failed = Vec::new();
        let mut start = 0;
        for (g, group) in groups.iter().enumerate() {
            let valid = match ops.get(start..group.end) {
                Some(slice) => self.validate(slice, group.allow_null),
                None => Err(Error::invalid("group bounds out of order")),
            };
            if let Err(e) = valid {
                failed.push((g, e));
            }
            start = group.end.max(start);
        }
        // Validated as given; expanded (key records) group by group, in place.
        let (ops, groups) = expand_groups(self.records_keys(), ops, groups);
        let (ops, groups) = (&ops[..], &groups[..]);
        let kept: Cow<'_, [Op<'_>]> =
            if failed.is_empty() { Cow::Borrowed(ops) } else { Cow::Owned(kept_ops(ops, groups, &failed)) };
        let written = self.writer().and_then(|mut w| {
            let base = w.tail;
            self.append(&mut w, &kept).map(|tails| (base, tails))
        });
        match written {
            Ok((base, tails)) => Applied { tails: group_tails(base, groups, &failed, tails), failed },
            Err(e) => {
                let mut failed = failed.into_iter().peekable();
                let all = (0..groups.len())
                    .map(|g| match failed.next_if(|(f, _)| *f == g) {
                        Some(earlier) => earlier,
                        None => (g, e.replicate()),
                    })
                    .collect();
                Applied { tails: vec![self.tail.load(Ordering::Acquire); groups.len()], failed: all }
            }
        }
    }

    /// Writes already-validated ops at the tail (batch.rs), then publishes
    /// them. `Op::Delete` of a key that is not live (in the index or earlier
    /// in `ops`) writes nothing. Returns the tail after each op. On an I/O
    /// error the file is cut back and nothing is published.
    fn append(&self, w: &mut Writer, ops: &[Op<'_>]) -> Result<Vec<u64>> {
        let base = w.tail;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let deletes = ops.iter().any(|op| matches!(op, Op::Delete(_)));
        let mut enc = Encoder::new(base, ops, deletes);
        w.append_or_roll_back(self.durable, |file| -> io::Result<()> {
            if deletes {
                let ix = read(&self.index);
                enc.push(file, ops, |h| ix.keys.contains(h))?;
            } else {
                enc.push(file, ops, |_| false)?;
            }
            enc.finish(file)
        })
        .map_err(|e| e.on_path(&self.path))?;
        w.tail = enc.tail;
        self.publish(enc.tail, ops.len(), batch::updates(base, ops.iter().copied(), &enc.tails));
        Ok(enc.tails)
    }

    /// `validate_keyed`, and in a store that records keys, no delete (or
    /// tombstone put) of a live key record: a user's delete of a reserved
    /// key would unlist a key that stays readable.
    fn validate(&self, ops: &[Op<'_>], allow_null: bool) -> Result<()> {
        let keyed = self.records_keys();
        validate_keyed(keyed, ops, allow_null)?;
        if keyed {
            for op in ops {
                let h = match *op {
                    Op::Delete(h) => h,
                    Op::Put(h, p) | Op::KeyedPut(h, _, p) if p == TOMBSTONE => h,
                    _ => continue,
                };
                if self.live_record(h) == Some(true) {
                    return Err(Error::invalid(
                        "this key is reserved for key records in a store opened with { keys: true }: \
                         it deletes with the key it records",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Makes written entries visible: index updates (about `count` of them)
    /// and the tail, together; then, with other processes, the tail in the
    /// shared page (before the write returns: acknowledged means visible).
    pub(crate) fn publish(&self, tail: u64, count: usize, updates: impl IntoIterator<Item = (u64, Option<u64>)>) {
        let mut ix = write(&self.index);
        let index = &mut ix.keys;
        if count > 1 {
            index.reserve(count);
        }
        for (h, m) in updates {
            match m {
                Some(m) => index.insert(h, m),
                None => index.remove(h),
            }
        }
        self.tail.store(tail, Ordering::Release);
        self.announce(tail);
    }
}

/// The ops of the groups not in `failed` (whose bounds were checked).
fn kept_ops<'a>(ops: &[Op<'a>], groups: &[Group], failed: &[(usize, Error)]) -> Vec<Op<'a>> {
    let mut failed = failed.iter().map(|(g, _)| *g).peekable();
    let (mut kept, mut start) = (Vec::new(), 0);
    for (g, group) in groups.iter().enumerate() {
        if failed.next_if_eq(&g).is_none() {
            kept.extend_from_slice(&ops[start..group.end]);
        }
        start = group.end.max(start);
    }
    kept
}

/// Each group's tail, from the tail after each written op (`op_tails`, of
/// the ops of the groups not in `failed`, from `base`). When every group is
/// one op and none failed, that is `op_tails` itself.
fn group_tails(base: u64, groups: &[Group], failed: &[(usize, Error)], op_tails: Vec<u64>) -> Vec<u64> {
    if failed.is_empty() && op_tails.len() == groups.len() && groups.iter().enumerate().all(|(g, x)| x.end == g + 1) {
        return op_tails;
    }
    let mut failed = failed.iter().map(|(g, _)| *g).peekable();
    let (mut running, mut at, mut start) = (base, 0, 0);
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let len = group.end.saturating_sub(start);
            start = group.end.max(start);
            if failed.next_if_eq(&g).is_none() && len > 0 {
                at += len;
                running = op_tails[at - 1];
            }
            running
        })
        .collect()
}

/// In a store that records keys (see [`crate::keys`]): each `KeyedPut`
/// preceded by its key's record, each delete (and tombstone put by key)
/// followed by the delete of its record. Borrowed unchanged otherwise.
pub(super) fn expand<'o, 'a>(keyed: bool, ops: &'o [Op<'a>]) -> Cow<'o, [Op<'a>]> {
    if !keyed {
        return Cow::Borrowed(ops);
    }
    let mut out = Vec::with_capacity(ops.len() * 2);
    expand_into(&mut out, ops);
    Cow::Owned(out)
}

fn expand_into<'a>(out: &mut Vec<Op<'a>>, ops: &[Op<'a>]) {
    for &op in ops {
        match op {
            Op::KeyedPut(h, _, p) | Op::Put(h, p) if p == TOMBSTONE => {
                out.push(op);
                out.push(Op::Delete(crate::keys::record_hash(h)));
            }
            Op::KeyedPut(h, key, _) => {
                out.push(Op::Record(h, key));
                out.push(op);
            }
            Op::Delete(h) => {
                out.push(op);
                out.push(Op::Delete(crate::keys::record_hash(h)));
            }
            op => out.push(op),
        }
    }
}

/// `expand` of the ops of groups, each group expanded in place (bounds out
/// of order are left as they are, for `apply_groups` to refuse).
fn expand_groups<'o, 'a>(keyed: bool, ops: &'o [Op<'a>], groups: &'o [Group]) -> (Cow<'o, [Op<'a>]>, Cow<'o, [Group]>) {
    if !keyed {
        return (Cow::Borrowed(ops), Cow::Borrowed(groups));
    }
    let (mut out, mut ends, mut start) = (Vec::with_capacity(ops.len() * 2), Vec::with_capacity(groups.len()), 0);
    for g in groups {
        let Some(slice) = ops.get(start..g.end) else {
            return (Cow::Borrowed(ops), Cow::Borrowed(groups));
        };
        expand_into(&mut out, slice);
        ends.push(Group { end: out.len(), allow_null: g.allow_null });
        start = g.end;
    }
    (Cow::Owned(out), Cow::Owned(ends))
}

/// `validate_ops`, and in a store that records keys, no put of a key
/// reserved for key records (it would overwrite another key's record).
pub(super) fn validate_keyed(keyed: bool, ops: &[Op<'_>], allow_null: bool) -> Result<()> {
    validate_ops(ops, allow_null)?;
    if keyed {
        for op in ops {
            if let Op::KeyedPut(_, key, _) = op {
                if crate::keys::is_record_key(key) {
                    return Err(Error::invalid(
                        "this key is reserved for key records in a store opened with { keys: true } \
                         (16 bytes starting with the hash of F7 6B 65 79 FD)",
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(super) fn validate_ops(ops: &[Op<'_>], allow_null: bool) -> Result<()> {
    for op in ops {
        if let Op::Put(_, payload) | Op::KeyedPut(_, _, payload) = op {
            validate_payload(payload, allow_null)?;
        }
    }
    Ok(())
}

fn validate_payload(payload: &[u8], allow_null: bool) -> Result<()> {
    if payload.is_empty() {
        return Err(Error::invalid("payload must not be empty"));
    }
    if payload == TOMBSTONE && !allow_null {
        return Err(Error::invalid("a payload of a single 0x00 byte is reserved for tombstones"));
    }
    Ok(())
}
