// ESLint flat config: type-aware typescript-eslint over every TypeScript file.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', '.tmp/**', '**/*.js', '**/*.mjs', '**/*.d.ts'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The browser and React packages' sources and tests, and the chat and todo examples' pages, are checked with the DOM's types, the rest without.
        project: ['./tsconfig.check.json', './packages/browser-adapter/tsconfig.check.json', './packages/react/tsconfig.check.json', './examples/chat/tsconfig.json', './examples/todo/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test's test() and describe() return promises the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }]
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Interface implementations are async by contract even where the body needs no await.
      '@typescript-eslint/require-await': 'off'
    }
  }
)
