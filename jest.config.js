/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    '^.+\\.yml$': '<rootDir>/test/yamlTransform.js',
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'yml'],
  testTimeout: 60000,
};
