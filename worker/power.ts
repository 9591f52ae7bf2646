/**
 * "Not on battery" (`swarmgrid worker --not-on-battery`), read from Linux's power-supply class:
 * each /sys/class/power_supply/NAME has a `type` (Mains, USB, Battery, UPS, …), and `online`
 * (1/0) for external supplies or `status` (Charging, Discharging, Full, …) for batteries.
 *
 * On battery = a battery is discharging, or the machine has batteries and an external supply that
 * is not online. A machine without a battery (a desktop, a server, a VM) is never on battery.
 * Elsewhere (macOS, Windows) the directory does not exist: the option cannot tell, and the
 * worker says so at start and runs as if on mains.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Linux lists power supplies. Tests point SWARMGRID_POWER_SUPPLY_DIR at a fake one (a test hook). */
export const POWER_SUPPLY_DIR = '/sys/class/power_supply';

export type PowerSource = 'battery' | 'mains' | 'unknown';

function read(dir: string, name: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, name, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether the machine runs on battery now; 'unknown' when `dir` cannot be read (not Linux). */
export function powerSource(dir = POWER_SUPPLY_DIR): PowerSource {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 'unknown';
  }
  let batteries = 0;
  let discharging = false;
  let external = 0;
  let externalOnline = false;
  for (const name of names) {
    const type = read(dir, name, 'type');
    if (type === 'Battery') {
      // A peripheral's battery (a mouse: scope Device) says nothing about the machine.
      if (read(dir, name, 'scope') === 'Device') continue;
      batteries++;
      if (read(dir, name, 'status') === 'Discharging') discharging = true;
    } else if (type !== undefined) {
      const online = read(dir, name, 'online');
      if (online === undefined) continue;
      external++;
      if (online === '1') externalOnline = true;
    }
  }
  if (discharging) return 'battery';
  if (batteries > 0 && external > 0 && !externalOnline) return 'battery';
  return 'mains';
}
