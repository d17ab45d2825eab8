/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  testMatch: ['**/__tests__/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }
    ]
  },
  clearMocks: true,
  // A hang guard, not a speed check: e2e tests run the bundled action several times on a 2-core runner.
  testTimeout: 180000,
  // Suites start real servers (git http-backend, public-inbox-httpd); two workers match the 2-core machines.
  maxWorkers: 2
}
