/** `util.inspect.custom`, by its registered name (no import of node:util at load). */
export const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never
