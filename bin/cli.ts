/** A tiny command framework over node:util parseArgs: one definition gives parsing and --help. */
import { parseArgs } from 'node:util';
import { GridError } from '../proto/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help. */
  default?: string;
  value?: string;
  description: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra help text after the options. */
  notes?: string;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number | void>;
}

export function helpText(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.default !== undefined ? ` (default: ${o.default})` : '';
    return `  ${flag.padEnd(34)} ${o.description}${dflt}`;
  });
  rows.push(`  ${'-h, --help'.padEnd(34)} show this help`);
  return `swarmgrid ${cmd.name}: ${cmd.summary}\n\nUsage: ${cmd.usage}\n\nOptions:\n${rows.join('\n')}\n${cmd.notes ? `\n${cmd.notes}\n` : ''}`;
}

export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`swarmgrid ${cmd.name}: ${(err as Error).message}\nRun 'swarmgrid ${cmd.name} --help' for usage.\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  try {
    return (await cmd.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals)) ?? 0;
  } catch (err) {
    if (err instanceof GridError) {
      const hint = HINTS[err.code];
      process.stderr.write(`swarmgrid ${cmd.name}: ${err.code}: ${err.message}\n${hint ? `  ${hint}\n` : ''}`);
      return err.statusCode >= 500 ? 1 : 2;
    }
    throw err;
  }
}

/** What to do about an error the coordinator answered with, where the message cannot say it. */
const HINTS: Record<string, string> = {
  GRID_ERR_UNAUTHORIZED: "pass --token TOKEN or set SWARMGRID_TOKEN; the coordinator's operator makes one with: swarmgrid token create --data DIR",
};

export function usageError(message: string): GridError {
  return new GridError('GRID_ERR_INVALID_OPTION', message, 400);
}

export function intOption(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Resolves once SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
