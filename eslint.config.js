import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'web/dist/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only the composition root reads the environment.
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration in platform/config.ts only; pass values down.',
        },
      ],
    },
  },
  {
    files: [
      'platform/main.ts',
      'platform/healthcheck.ts',
      'platform/config.ts',
      'registry/cli.ts',
      'platform/backup-cli.ts',
      'simulators/cli.ts',
      'simulators/demo.ts',
      'bench/**',
      'test/**',
      'vitest.config.ts',
      'vitest.slow.config.ts',
      'vitest.postgres.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);
