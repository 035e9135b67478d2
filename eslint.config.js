import tseslint from 'typescript-eslint';

// Type-aware rules across the tree: floating or misused promises are the bugs that take a
// long-running gateway or centre down, so they are errors, fixed where found, not suppressed.
export default tseslint.config(
  { ignores: ['**/node_modules/', 'build/', 'data/', '**/*.js', '**/*.mjs', 'bench-results/', 'tests/scratch/', '**/dist/', 'scripts/test/unit/fixtures/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-console': 'off',
    },
  },
);
