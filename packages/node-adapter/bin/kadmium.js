#!/usr/bin/env node
// The `kadmium` command: the compiled CLI (`npm run build` at the repository root makes it).
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/src/cli/bin.js', import.meta.url)
if (!existsSync(compiled)) {
  process.stderr.write('kadmium: the CLI is not built: run "npm run build" at the repository root\n')
  process.exit(1)
}
await import(compiled.href)
