// Mirrors esbuild's text loader for rules/*.yml so tests see the same module shape as dist/.
module.exports = {
  process(source) {
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(source)} };` };
  },
};
