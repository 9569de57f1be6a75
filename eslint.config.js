// @ts-check
import tseslint from 'typescript-eslint';

const noAppImports = { group: ['**/apps/**', '@one-time/api', '@one-time/worker'], message: 'libs/* must not depend on apps/*.' };
const noDeepImports = {
  group: ['@one-time/*/src/**', '**/libs/*/src/**'],
  message: 'Import a library through its package name, not its files.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.data/**', '**/dist/**', 'coverage/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noAppImports, noDeepImports] }] },
  },
  {
    files: ['libs/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noAppImports,
            noDeepImports,
            { group: ['@one-time/*'], message: '@one-time/core depends on no other workspace package.' },
          ],
        },
      ],
    },
  },
  {
    // The client takes the API's router type, and only its type.
    files: ['libs/client/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@one-time/api', message: 'Only the AppRouter type may come from the API.', allowTypeImports: true }],
          patterns: [noDeepImports],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noDeepImports] }] },
  },
  {
    // Tests may reach into services directly to check what they hold.
    files: ['**/test/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
  { files: ['*.js'], ...tseslint.configs.disableTypeChecked },
);
