/** Jest runs the TypeScript tests through ts-jest; type checking is done once by `tsc` in `npm test`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
  testTimeout: 60000,
};
