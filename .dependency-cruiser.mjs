// dependency-cruiser: the import rules of the workspace, checked by
// `npm run lint:layers` (run by `npm run lint`, so by `npm test`):
//
//   depcruise packages bench examples --config .dependency-cruiser.mjs
//
// Rules, all `error` unless said: 1 no cycles (type-only imports count);
// 2 store/ and query/ stay off the network; 3 core's layers only import
// downwards; 4 core imports no adapter and no Node.js built-in; 5 adapters
// import no other adapter and reach core only by `@kadmium/core` entry
// points; 6 bench/ and examples/ likewise, but for bench/ and the examples'
// tests importing the browser tests' fixtures (below). @kadmium/browser's
// sources (and its tests' and the bench's page files) import no Node.js
// built-in either.
//
// A rule broken on purpose fails `npm test`: there is no list of exceptions.
import fs from 'node:fs'
import path from 'node:path'

const CORE = '^packages/core/src/'

// ---------------------------------------------------------------------------
// core's layers, bottom to top. A folder may import its own level and the
// levels below it, never a level above. Folders on one level may import each
// other (no-circular still holds between them).
// ---------------------------------------------------------------------------
const LAYERS = [
  ['util'],
  ['model', 'guard'],
  ['storage'],
  ['query'],
  ['store'],
  ['access', 'crypto', 'manifest'],
  ['replica'],
  ['peer'],
  ['sync', 'dht', 'presence'],
  ['replication'],
  ['profile']
]
/** The files at core's top (`src/*.ts`), above every folder. */
const TOP_FILES = ['database', 'database-options', 'collection', 'index', 'dht-server']
/** Shared leaves anyone in core may import; they import no folder and no top file. */
const LEAVES = ['errors', 'events']
/** Conformance suites (`@kadmium/core/testing`): may import anything in core; nothing else in core imports them. */
const TESTING = 'testing'

const folders = (names) => `${CORE}(${names.join('|')})/`
const files = (names) => `${CORE}(${names.join('|')})\\.ts$`
const ABOVE_ALL_FOLDERS = [files(TOP_FILES), folders([TESTING])]

const layerRules = LAYERS.map((level, i) => {
  const above = LAYERS.slice(i + 1).flat()
  return {
    name: `layer-${level.join('-')}`,
    severity: 'error',
    comment:
      `core layers: ${level.join('/')} may not import a layer above it ` +
      `(${[...above, 'top-level files', TESTING].join(', ')}). Order: ` +
      LAYERS.map((l) => l.join(', ')).join(' -> ') + ' -> top-level files.',
    from: { path: folders(level) },
    to: { path: [...(above.length > 0 ? [folders(above)] : []), ...ABOVE_ALL_FOLDERS] }
  }
})

const PLACED = [
  folders([...LAYERS.flat(), TESTING]),
  files([...TOP_FILES, ...LEAVES]),
  `${CORE}platform\\.d\\.ts$`
]

// ---------------------------------------------------------------------------
// Packages and their entry points: the `development` targets of each
// workspace package's "exports" (the source files `@kadmium/x` resolves to).
// ---------------------------------------------------------------------------
const root = import.meta.dirname
const packageDirs = fs.readdirSync(path.join(root, 'packages'))
  .filter((dir) => fs.existsSync(path.join(root, 'packages', dir, 'package.json')))
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const entryPoints = packageDirs.flatMap((dir) => {
  const { exports = {} } = JSON.parse(fs.readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'))
  return Object.values(exports)
    .map((target) => (typeof target === 'string' ? target : target.development ?? target.default))
    .filter((target) => typeof target === 'string')
    .map((target) => `^${escape(path.posix.join('packages', dir, target))}$`)
})

/**
 * Adapters: every workspace package but core (packages/node-adapter, later packages/browser-adapter,
 * packages/react), and their names in case one does not resolve (yet).
 */
const ADAPTERS = [
  '^packages/(?!core/)[^/]+/',
  '^@kadmium/(?!core(/|$))'
]
const LIBP2P = '(^|(^|/)node_modules/)(@libp2p/|@chainsafe/|libp2p(/|$))'
/**
 * The browser tests' fixtures (headless Chromium, page bundling and serving, `kadmium serve`, network
 * namespaces, the minimal app's build): the bench's `browser` scenario runs on them too, rather than on
 * a copy, and so do the examples' tests (the `.test.ts` files under examples/: an example's page in
 * Chromium with a `kadmium serve`). Nothing else outside the package may import them (see `browser-fixtures-for-bench`).
 */
const BROWSER_FIXTURES = '^packages/browser-adapter/test/fixtures/'

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    // 1 --------------------------------------------------------------------
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere, type-only imports included (tsPreCompilationDeps).',
      from: {},
      to: { circular: true }
    },

    // 2 --------------------------------------------------------------------
    {
      name: 'store-query-no-network',
      severity: 'error',
      comment: 'store/ and query/ work on a StorageAdapter alone: no sync/, dht/, peer/ and no libp2p package.',
      from: { path: folders(['store', 'query']) },
      to: { path: [folders(['sync', 'dht', 'peer']), LIBP2P] }
    },

    // 3 --------------------------------------------------------------------
    ...layerRules,
    {
      name: 'layer-leaves',
      severity: 'error',
      comment: `core's shared leaves (${LEAVES.join(', ')}.ts) import no core folder and no top-level file; only each other.`,
      from: { path: files(LEAVES) },
      to: { path: CORE, pathNot: files(LEAVES) }
    },
    {
      name: 'layer-top-files',
      severity: 'error',
      comment: `core's top-level files (${TOP_FILES.join(', ')}.ts) do not import ${TESTING}/.`,
      from: { path: files(TOP_FILES) },
      to: { path: folders([TESTING]) }
    },
    // A warning, not an error: a new folder of core is not yet constrained by the layer rules until
    // it gets a place in LAYERS / TOP_FILES / LEAVES above.
    {
      name: 'layer-unplaced',
      severity: 'warn',
      comment:
        'Imported file of packages/core/src in no layer: give its folder a place in LAYERS, TOP_FILES ' +
        'or LEAVES of .dependency-cruiser.mjs, so that the layer rules cover it.',
      from: {},
      to: { path: CORE, pathNot: PLACED }
    },
    {
      name: 'layer-unplaced-importer',
      severity: 'warn',
      comment:
        'Importing file of packages/core/src in no layer: give its folder a place in LAYERS, TOP_FILES ' +
        'or LEAVES of .dependency-cruiser.mjs, so that the layer rules cover it.',
      from: { path: CORE, pathNot: PLACED },
      to: { path: CORE }
    },

    // 4 --------------------------------------------------------------------
    {
      name: 'core-no-adapter',
      severity: 'error',
      comment: 'core (src/, testing/ and test/ included: the packages would depend on each other) imports no adapter package.',
      from: { path: '^packages/core/' },
      to: { path: ADAPTERS }
    },
    {
      name: 'core-no-node-builtins',
      severity: 'error',
      comment: 'core (src/, testing/ included) runs in browsers too: no node: module, no Node.js built-in. packages/core/test is exempt.',
      from: { path: CORE },
      to: { dependencyTypes: ['core'] }
    },

    {
      name: 'browser-no-node-builtins',
      severity: 'error',
      comment:
        '@kadmium/browser runs in browsers: its src/ and the test files that run in a page (test/browser/, ' +
        'test/fixtures/browser/, and the bench\'s pages, bench/browser/) import no node: module and no Node.js built-in. Its Node-side tests may.',
      from: { path: ['^packages/browser-adapter/(src|test/browser|test/fixtures/browser)/', '^bench/browser/'] },
      to: { dependencyTypes: ['core'] }
    },

    // 5 --------------------------------------------------------------------
    {
      name: 'adapters-not-each-other',
      severity: 'error',
      comment: 'An adapter package (src or test) never imports another adapter.',
      from: { path: '^packages/([^/]+)/', pathNot: '^packages/core/' },
      to: { path: ADAPTERS, pathNot: '^packages/$1/' }
    },

    // 5 and 6 ----------------------------------------------------------------
    {
      name: 'packages-by-entry-point',
      severity: 'error',
      comment:
        "Outside a package (adapters, bench/, examples/), its files are reached only through the package's " +
        'entry points (`@kadmium/core`, `@kadmium/core/testing`, `@kadmium/node/level`, ...): never a non-exported file.',
      from: { path: '^(packages/([^/]+)/|bench/|examples/)' },
      to: { path: '^packages/([^/]+)/', pathNot: ['^packages/$2/', ...entryPoints, BROWSER_FIXTURES] }
    },
    {
      name: 'packages-not-by-relative-path',
      severity: 'error',
      comment: "Outside a package, import it by its name (`@kadmium/core`), never by a relative path into packages/ (not even to an entry file).",
      from: { path: '^(packages/([^/]+)/|bench/|examples/)' },
      // a relative import is 'local' alone; `@kadmium/x` (a workspace link) is 'local' and 'aliased'
      to: {
        path: '^packages/([^/]+)/',
        pathNot: ['^packages/$2/', BROWSER_FIXTURES],
        dependencyTypes: ['local'],
        dependencyTypesNot: ['aliased', 'aliased-workspace']
      }
    },

    {
      name: 'browser-fixtures-for-bench',
      severity: 'error',
      comment:
        "The browser tests' fixtures (packages/browser-adapter/test/fixtures/) are reached from outside the package " +
        "by bench/ (the `browser` scenario runs Chromium, pages and `kadmium serve` with them) and the examples' tests " +
        '(`examples/**/*.test.ts`, not the examples themselves) alone, by a relative path.',
      from: { path: '^(packages/(?!browser-adapter/)|examples/(?!.*\\.test\\.ts$))' },
      to: { path: BROWSER_FIXTURES }
    },

    // Housekeeping -----------------------------------------------------------
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file (a typo, a missing dependency, an unexported subpath): the rules above cannot see where it goes.',
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules stays in the graph (rule 2 looks at libp2p packages) but is not followed.
    exclude: { path: ['^packages/[^/]+/dist/', '^bench/results/', '^\\.tmp/'] },
    // Type-only imports (`import type`, `import('x').T`) count: a cycle through types is a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    // `./x.ts` imports and the `development` condition: `@kadmium/core` resolves to packages/core/src/index.ts.
    // No `types` condition: it would come first in our "exports" and resolve to dist/*.d.ts.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['development', 'import', 'node', 'default'],
      mainFields: ['module', 'main'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json']
    },
    // Workspace links (node_modules/@kadmium/*) resolve to their real path under packages/.
    preserveSymlinks: false,
    combinedDependencies: false,
    moduleSystems: ['es6', 'cjs'],
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true }
    }
  }
}
