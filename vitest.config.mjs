// vitest runs only the keyv adapter's tests (__test__/keyv/*.test.ts):
// keyv's own compliance suite, @keyv/test-suite, is written for vitest. The
// rest of __test__/ is ava's (package.json "ava"), never picked up here.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/keyv/**/*.test.ts'],
    testTimeout: 60_000,
    // The package's own build (lib/: CommonJS beside its ESM entries, the
    // .node addon) is loaded by Node itself, as a user's import loads it, not
    // transformed by Vite (whose CommonJS interop differs from Node's).
    server: { deps: { external: [/\/lib\//] } },
  },
})
