#!/usr/bin/env node
/** The swarmgrid command line. */
import { closestName } from '../jobs/suggest.js';
import { runCommand, type Command } from './cli.js';
import { cancel, results, status, submit, wait } from './commands/client.js';
import { coordinator } from './commands/coordinator.js';
import { demo } from './commands/demo.js';
import { dht } from './commands/dht.js';
import { kind } from './commands/kind.js';
import { kinds } from './commands/kinds.js';
import { token } from './commands/token.js';
import { worker } from './commands/worker.js';

const commands: Command[] = [demo, coordinator, worker, dht, token, kind, kinds, submit, wait, status, results, cancel];

function usage(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n');
  return `swarmgrid: a volunteer computing grid\n\nUsage: swarmgrid COMMAND [options]\n\nCommands:\n${rows}\n\nRun 'swarmgrid COMMAND --help' for a command's options.\n`;
}

// Piped into `head` or the like: a reader that stops reading is no error. Quietly stop (child
// processes are stopped by their own exit handlers, as in demo.ts).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exit(name ? 0 : 2);
}
if (name === '--version') {
  process.stdout.write('0.1.0\n');
  process.exit(0);
}
const command = commands.find((c) => c.name === name || c.aliases?.includes(name));
if (!command) {
  const close = closestName(name, commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]));
  process.stderr.write(`swarmgrid: unknown command "${name}"${close ? ` (did you mean ${close}?)` : ''}\n\n${usage()}`);
  process.exit(2);
}
const code = await runCommand(command, rest);
// A failed start may leave a library's handles behind (a DHT node that could not bind keeps its
// timers): the error is printed, nothing is left to do, so end now instead of hanging.
if (code !== 0) process.exit(code);
process.exitCode = code;
