// Checks that the install scripts the product needs ran (package.json "allowScripts" approves
// exactly those): CI runs it right after `npm ci`, so a skipped script fails the run with a
// clear message instead of a grid without its SQLite binding.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const problems = [];

try {
  // better-sqlite3: its install script builds or fetches the native binding.
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  db.prepare('SELECT 1').get();
  db.close();
} catch (err) {
  problems.push(`better-sqlite3 has no working native binding (${err.message}); its install script must run: "allowScripts": { "better-sqlite3": true }`);
}

try {
  // esbuild: its install script checks (and if need be fetches) the platform binary.
  const esbuild = require('esbuild');
  esbuild.transformSync('let x: number = 1', { loader: 'ts' });
} catch (err) {
  problems.push(`esbuild does not run (${err.message}); its install script must run: "allowScripts": { "esbuild": true }`);
}

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`check-install: ${p}\n`);
  process.exit(1);
}
process.stdout.write('check-install: better-sqlite3 and esbuild are installed and working\n');
