// Type-checked typescript-eslint rules over the whole project; Prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The house's boundaries (README "Map of src/"): domain code (services, ports, models) never
// reaches an entry point (http/, worker/) or an adapter; entry points never reach an adapter nor
// each other; adapters never reach an entry point; only the composition root (deps.ts, main.ts)
// picks adapters. test/unit/boundaries.test.ts plants a forbidden import to show this fails.
const LAYERS = {
  adapters: 'an adapter: only the composition root (src/deps.ts) picks adapters; depend on the port',
  http: 'the HTTP entry point: domain code and adapters must not depend on how requests arrive',
  worker: 'the worker entry point: domain code and adapters must not depend on how events arrive',
};
const forbid = (...layers) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: layers.map((layer) => ({
        regex: `(^|/)${layer}/`,
        message: `${layer}/ is ${LAYERS[layer]}.`,
      })),
    },
  ],
});
const boundaries = [
  { files: ['src/adapters/**/*.ts'], rules: forbid('http', 'worker') },
  { files: ['src/http/**/*.ts', 'src/**/*.routes.ts'], rules: forbid('adapters', 'worker') },
  { files: ['src/worker/**/*.ts'], rules: forbid('adapters', 'http') },
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/adapters/**',
      'src/http/**',
      'src/worker/**',
      'src/**/*.routes.ts',
      'src/deps.ts',
      'src/main.ts',
    ],
    rules: forbid('adapters', 'http', 'worker'),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.services/', '.cache/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  ...boundaries,
  {
    // node:test's describe/it return promises the runner awaits; response bodies are untyped JSON
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // the console's browser modules: plain JavaScript typed in JSDoc, checked against the DOM by
    // src/console/tsconfig.json; TypeScript resolves globals there, so no-undef would only repeat it
    files: ['src/console/public/**/*.js'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-undef': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
);
