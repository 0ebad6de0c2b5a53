// Data files in rules/ are bundled as text by esbuild (and by the jest transform in test/yamlTransform.js).
declare module '*.yml' {
  const text: string;
  export default text;
}
