/**
 * What a SQLite database is, from the names of its tables: Label Studio (Django's `project`,
 * `task`, `task_completion`) or MLflow (`experiments`, `runs`, `metrics`/`params`). Other
 * databases are not AI assets discovery knows.
 */

export type DatabaseKind = 'label-studio' | 'mlflow';

export function classifySqlite(tables: Iterable<string>): DatabaseKind | undefined {
  const t = new Set([...tables].map((name) => name.toLowerCase()));
  if (t.has('task') && t.has('task_completion') && t.has('project')) return 'label-studio';
  if (t.has('experiments') && t.has('runs') && (t.has('metrics') || t.has('params'))) return 'mlflow';
  return undefined;
}

/**
 * Table names from the first bytes of a database file, where SQLite keeps its schema as SQL text
 * (the schema table's pages are written first): for objects that cannot be opened in place (S3).
 */
export function tablesInHead(head: Uint8Array): string[] {
  const s = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  const names = new Set<string>();
  for (const m of s.matchAll(/CREATE TABLE\s+(?:IF NOT EXISTS\s+)?["`[]?([A-Za-z_][A-Za-z0-9_]*)/gi)) names.add(m[1]);
  return [...names];
}

/** Bytes read from an S3 object for its schema. */
export const SQLITE_SCHEMA_BYTES = 1 << 20;
