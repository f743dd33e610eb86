// The packages as a user gets them: each one `npm pack`ed (its prepack
// builds it), the tarballs installed with `npm install` into an empty project
// outside the repository (with the README example's zod from the registry),
// and used there with plain `node` — no flags, no build step — and plain tsc.
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PACKAGE_JSON, TYPES_TS, tsconfig } from './fixtures/pack-app.ts'
import { ROOT, devDependency, firstCodeBlock, pack, run, type PackResult } from './fixtures/packing.ts'

/** The workspace's packages: folder → name. */
const PACKAGES = new Map([
  ['packages/core', '@kadmium/core'],
  ['packages/node-adapter', '@kadmium/node'],
  ['packages/browser-adapter', '@kadmium/browser'],
  ['packages/react', '@kadmium/react']
])

/** The updated record, as the README example's `find` prints it. */
const UPDATED_RECORD = /title: 'milk', done: true, id: '[0-9A-Z]{26}'/

interface InstalledManifest {
  version: string
  license?: string
  exports: Record<string, string | Record<string, string>>
  bin?: Record<string, string>
  dependencies?: Record<string, string>
}

describe('the packages, packed and installed into an empty project', { timeout: 300_000 }, () => {
  let work = ''
  let app = ''
  const packs: PackResult[] = []

  /** A package's package.json as installed in the app. */
  const installed = async (name: string): Promise<InstalledManifest> =>
    JSON.parse(await readFile(join(app, 'node_modules', name, 'package.json'), 'utf8')) as InstalledManifest

  /** Runs a file of the app with plain node, in a working directory of its own; returns its output. */
  const runInApp = async (file: string, source: string): Promise<string> => {
    await writeFile(join(app, file), source)
    const cwd = await mkdtemp(join(app, 'run-'))
    const { stdout } = await run(process.execPath, [join(app, file)], cwd, 60_000)
    return stdout
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kadmium-pack-'))
    app = join(work, 'app')
    const destination = join(work, 'tarballs')
    await mkdir(destination)
    await mkdir(app)
    // One at a time: each prepack runs tsc -b over the packages it depends on.
    for (const dir of PACKAGES.keys()) packs.push(await pack(join(ROOT, dir), destination))
    await writeFile(join(app, 'package.json'), JSON.stringify(PACKAGE_JSON, null, 2))
    const tarballs = packs.map((p) => join(destination, p.filename))
    const extra = ['zod', '@types/node', '@types/react'].map(devDependency)
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...extra], app, 240_000)
  }, { timeout: 290_000 })

  after(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true })
  })

  it('each tarball holds its build, types, source maps, sources, README and LICENSE, and no tests', async () => {
    assert.deepEqual(packs.map((p) => p.name), [...PACKAGES.values()])
    for (const { name, files } of packs) {
      const manifest = await installed(name)
      for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.js.map', 'dist/src/index.d.ts', 'dist/src/index.d.ts.map', 'src/index.ts']) {
        assert.ok(files.includes(file), `${name} ships ${file}`)
      }
      const targets = [...Object.values(manifest.exports).flatMap((e) => typeof e === 'string' ? [e] : Object.values(e)), ...Object.values(manifest.bin ?? {})]
      for (const target of targets) assert.ok(files.includes(target.replace(/^\.\//, '')), `${name}: ${target} (exports or bin) is in the tarball`)
      assert.deepEqual(files.filter((f) => f.startsWith('test/') || f.endsWith('.tsbuildinfo')), [], `${name} ships no tests and no build state`)
      const leftovers = files.filter((f) => f.startsWith('dist/src/') && f.endsWith('.js') && !files.includes(f.replace(/^dist\//, '').replace(/\.js$/, '.ts')))
      assert.deepEqual(leftovers, [], `${name} ships no build output of a source that is gone`)
      assert.equal(manifest.license, 'MIT', `${name} is MIT`)
    }
  })

  it('the packages have one version, and depend on each other at it', async () => {
    const versions = new Set(packs.map((p) => p.version))
    assert.equal(versions.size, 1, `one version: ${[...versions].join(', ')}`)
    for (const { name } of packs) {
      for (const [dependency, range] of Object.entries((await installed(name)).dependencies ?? {})) {
        if (dependency.startsWith('@kadmium/')) assert.equal(range, packs[0]?.version, `${name} depends on ${dependency} at the packages' version`)
      }
    }
  })

  it('the README example runs with plain node, as JavaScript', async () => {
    const stdout = await runInApp('readme.js', firstCodeBlock('README.md', 'ts'))
    assert.match(stdout, UPDATED_RECORD, 'the query printed the updated record')
  })

  it('the README example runs with plain node, as TypeScript (Node strips the types)', async () => {
    const stdout = await runInApp('readme.ts', firstCodeBlock('README.md', 'ts'))
    assert.match(stdout, UPDATED_RECORD, 'the query printed the updated record')
  })

  it('the packages\' own README examples run with plain node', async () => {
    for (const dir of ['packages/core', 'packages/node-adapter']) {
      const stdout = await runInApp(`${dir.split('/')[1]}-readme.js`, firstCodeBlock(`${dir}/README.md`, 'js'))
      assert.match(stdout, /title: 'milk'/, `${dir}/README.md: the query printed the record`)
    }
  })

  it('every entry point resolves to the build and loads', async () => {
    const specifiers: string[] = []
    for (const name of PACKAGES.values()) {
      for (const subpath of Object.keys((await installed(name)).exports)) {
        if (subpath !== './package.json') specifiers.push(name + subpath.slice(1))
      }
    }
    const stdout = await runInApp('entry-points.js', `for (const specifier of ${JSON.stringify(specifiers)}) {
  const module = await import(specifier)
  console.log(specifier, Object.keys(module).length, import.meta.resolve(specifier))
}
`)
    const lines = stdout.trim().split('\n')
    assert.equal(lines.length, specifiers.length, stdout)
    for (const line of lines) {
      const [specifier, exported, url] = line.split(' ')
      assert.ok(Number(exported) > 0, `${specifier} exports something`)
      assert.match(url ?? '', /\/node_modules\/@kadmium\/[a-z]+\/dist\/src\/.+\.js$/, `${specifier} resolves to the build`)
    }
  })

  it('npx kadmium --help prints the CLI\'s commands', async () => {
    // --no: never fetch a package of that name from the registry.
    const { stdout } = await run('npx', ['--no', '--', 'kadmium', '--help'], app, 60_000)
    assert.match(stdout, /usage: kadmium COMMAND/)
    assert.match(stdout, /^ {2}serve /m)
  })

  it('TypeScript finds every package\'s types, with Node\'s resolution and a bundler\'s', async () => {
    await writeFile(join(app, 'types.ts'), TYPES_TS)
    await writeFile(join(app, 'readme.ts'), firstCodeBlock('README.md', 'ts'))
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    for (const resolution of ['nodenext', 'bundler'] as const) {
      const config = join(app, `tsconfig.${resolution}.json`)
      await writeFile(config, JSON.stringify(tsconfig(resolution, ['types.ts', 'readme.ts']), null, 2))
      await run(process.execPath, [tsc, '-p', config], app, 120_000)
    }
  })
})
