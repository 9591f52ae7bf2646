#!/usr/bin/env node
/**
 * Checks that the coordinator's store stays behind its interface (coordinator/store/grid-store.ts):
 * 1. no SQL outside coordinator/store/: in coordinator/ and bin/, no prepared statement, no SQL
 *    keyword of a query, no better-sqlite3 import;
 * 2. no import cycle through the store: nothing the store imports (type-only imports included)
 *    imports the store back.
 * Usage: node scripts/check-store-boundary.mjs [root]   (root: the repository, default: this one).
 * Prints each finding and exits 1 when there is any. test/coordinator/store-boundary.test.ts runs it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const STORE = join(root, 'coordinator', 'store') + sep;

/** What only the store may write. Case-sensitive: SQL keywords in capitals, as the store writes them. */
const SQL = [
  [/\bstmt\(/, 'stmt('],
  [/\.prepare\(/, 'prepare('],
  [/\.pragma\(/, 'pragma('],
  [/\bSELECT\s/, 'SELECT'],
  [/\bINSERT\s/, 'INSERT'],
  [/\bUPDATE\s/, 'UPDATE'],
  [/\bDELETE\s+FROM\b/, 'DELETE FROM'],
  [/from\s+['"]better-sqlite3['"]/, 'better-sqlite3 import'],
];

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const findings = [];
const files = ['coordinator', 'bin'].flatMap((d) => sources(join(root, d)));
for (const file of files) {
  if (file.startsWith(STORE)) continue;
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    for (const [re, what] of SQL) {
      if (re.test(line)) findings.push(`${relative(root, file)}:${i + 1}: ${what} outside coordinator/store/: ${line.trim().slice(0, 120)}`);
    }
  });
}

/** Relative imports of a file (static, dynamic, type-only and re-exports), as .ts paths. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
  }
  return out;
}

// Everything the store reaches outside its folder must not lead back into it.
const seen = new Set();
const stack = files.filter((f) => f.startsWith(STORE));
while (stack.length > 0) {
  const file = stack.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  let imports;
  try {
    imports = importsOf(file);
  } catch {
    continue; // not a source file of ours (generated code, a .json)
  }
  for (const target of imports) {
    if (!file.startsWith(STORE) && target.startsWith(STORE)) {
      findings.push(`${relative(root, file)}: imports ${relative(root, target)}, and the store imports ${relative(root, file)}: an import cycle through the store`);
    }
    stack.push(target);
  }
}

for (const f of findings) process.stdout.write(f + '\n');
process.exit(findings.length > 0 ? 1 : 0);
