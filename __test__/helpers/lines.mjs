// Child processes of the tests report one line per event on stdout.

/** Calls `onLine` with each whole line `stream` delivers (a cut-off last line stays in `rest()`). */
export function onLines(stream, encoding, onLine) {
  let pending = ''
  stream.setEncoding(encoding)
  stream.on('data', (chunk) => {
    pending += chunk
    let nl
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      onLine(line)
    }
  })
  return { rest: () => pending }
}
