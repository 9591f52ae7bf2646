/**
 * The coordinator's SQLite schema. Versioned with PRAGMA user_version; a store of an older
 * version is brought up to date by `MIGRATIONS` (sqlite-store.ts runs them).
 */
export const SCHEMA_VERSION = 3;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS batches (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  kind_version  TEXT NOT NULL,
  code_hash     BLOB,
  params        TEXT,
  policy        TEXT NOT NULL,
  state         TEXT NOT NULL,
  priority      INTEGER NOT NULL DEFAULT 0,
  total         INTEGER NOT NULL DEFAULT 0,
  validated     INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  tasks_issued  INTEGER NOT NULL DEFAULT 0,
  provisional   INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  owner         TEXT,
  artifact      BLOB,
  artifact_type TEXT,
  artifact_name TEXT,
  summary       TEXT,
  error         TEXT
);
-- Bounded reads of batches by state, newest first (recovery on start, GET /v1/batches?state=).
CREATE INDEX IF NOT EXISTS batches_state ON batches (state, created_at);

CREATE TABLE IF NOT EXISTS work_units (
  id             INTEGER PRIMARY KEY,
  batch_id       TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  input          BLOB NOT NULL,
  state          TEXT NOT NULL DEFAULT 'pending',
  canonical_task INTEGER,
  agreed         INTEGER NOT NULL DEFAULT 0,
  fail_reason    TEXT,
  UNIQUE (batch_id, seq)
);
CREATE INDEX IF NOT EXISTS work_units_pending ON work_units (batch_id, id) WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS tasks (
  id          INTEGER PRIMARY KEY,
  wu_id       INTEGER NOT NULL,
  worker      TEXT NOT NULL,
  address     TEXT NOT NULL,
  runtime     TEXT NOT NULL,
  state       TEXT NOT NULL,
  provisional INTEGER NOT NULL DEFAULT 0,
  issued_at   INTEGER NOT NULL,
  deadline    INTEGER NOT NULL,
  finished_at INTEGER,
  output      BLOB,
  digest      BLOB,
  error       TEXT,
  cpu_ms      INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_wu ON tasks (wu_id);
CREATE INDEX IF NOT EXISTS tasks_leased ON tasks (deadline) WHERE state = 'leased';
CREATE INDEX IF NOT EXISTS tasks_worker ON tasks (worker, id);

CREATE TABLE IF NOT EXISTS workers (
  key               TEXT PRIMARY KEY,
  runtime           TEXT NOT NULL,
  address           TEXT NOT NULL,
  first_seen        INTEGER NOT NULL,
  last_seen         INTEGER NOT NULL,
  valid             INTEGER NOT NULL DEFAULT 0,
  invalid           INTEGER NOT NULL DEFAULT 0,
  errors            INTEGER NOT NULL DEFAULT 0,
  timeouts          INTEGER NOT NULL DEFAULT 0,
  consecutive_valid INTEGER NOT NULL DEFAULT 0,
  tasks_done        INTEGER NOT NULL DEFAULT 0,
  cpu_ms            INTEGER NOT NULL DEFAULT 0
);

-- Idempotency-Key of a submission (coordinator/idempotency.ts): a retry with the same key and
-- body gets the same batch. Created where missing, so older stores need no migration.
CREATE TABLE IF NOT EXISTS submissions (
  batch_id   TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  idem_key   TEXT NOT NULL,
  body_hash  TEXT,
  UNIQUE (owner, idem_key)
);

CREATE TABLE IF NOT EXISTS tokens (
  hash       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  role       TEXT NOT NULL DEFAULT 'submitter' CHECK (role IN ('submitter', 'operator', 'volunteer'))
);

CREATE TABLE IF NOT EXISTS kinds (
  name       TEXT PRIMARY KEY,
  version    TEXT NOT NULL,
  code_hash  BLOB NOT NULL,
  code       BLOB NOT NULL,
  signature  BLOB NOT NULL,
  added_at   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS declines (
  worker TEXT NOT NULL,
  kind   TEXT NOT NULL,
  reason TEXT NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (worker, kind)
);
`;

/**
 * Upgrades, by the version they start from; each runs in one transaction with the version bump.
 * Run before SCHEMA, which only creates what is missing.
 */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  // 1 → 2: tokens get roles. Every token a version-1 store has could do everything, so it becomes
  // an operator (an upgrade locks nobody out); new tokens default to submitter. Batches name their
  // owner by token id from now on: old ones owned by a name exactly one token has are renamed.
  1: `
ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'submitter' CHECK (role IN ('submitter', 'operator', 'volunteer'));
UPDATE tokens SET role = 'operator';
UPDATE batches SET owner = (SELECT substr(hash, 1, 12) FROM tokens WHERE tokens.name = batches.owner)
  WHERE owner IN (SELECT name FROM tokens GROUP BY name HAVING count(*) = 1);
`,
  // 2 → 3: a running adaptive batch counts its units accepted on a single unchecked copy
  // (`provisional`, which may still be reopened) apart from its final decisions.
  2: `
ALTER TABLE batches ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
UPDATE batches SET provisional = (SELECT count(*) FROM work_units w JOIN tasks t ON t.id = w.canonical_task
  WHERE w.batch_id = batches.id AND w.state = 'validated' AND t.provisional = 1) WHERE state IN ('loading', 'running');
`,
};
