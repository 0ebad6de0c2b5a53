// Entry point the end-to-end tests bundle with esbuild (like dist/cli.js), so they run the guard
// as a real process, jail-init serialisation included, without depending on src/cli.ts.
import { doctorMain, runMain } from '../../../src/guard/command';

const [sub, ...rest] = process.argv.slice(2);
const main = sub === 'doctor' ? doctorMain : runMain;
main(rest).then((code) => {
  process.exitCode = code;
});
