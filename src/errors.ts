import native = require('./native')

/** Error codes thrown by the store (as `error.code`). */
export type ErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_STORE_CLOSED'
  | 'ERR_STORE_LOCKED'
  | 'ERR_HASH_COLLISION'
  | 'ERR_NOT_A_STORE'
  | 'ERR_CORRUPT_STORE'
  | 'ERR_CHECKSUM_MISMATCH'
  | 'ENOENT'
  | (string & {})

export interface StoreError extends Error {
  code: ErrorCode
}

export function codedError(code: ErrorCode, message: string): StoreError {
  const err = (code === 'ERR_INVALID_ARG_TYPE' ? new TypeError(message) : new Error(message)) as StoreError
  err.code = code
  return err
}

export function typeError(message: string): StoreError {
  return codedError('ERR_INVALID_ARG_TYPE', message)
}

/** ERR_STORE_CLOSED, as the binding throws it (crates/node/src/errors.rs holds its code and message). */
export function closedError(): StoreError {
  return native.storeClosedError() as StoreError
}
