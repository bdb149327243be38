/**
 * Counting the rows of each table in a dump as it streams past, in bounded memory (a row may be
 * larger than any buffer: only a line's first bytes are kept):
 *
 *   COPY rows   the SQL pg_restore writes for a custom-format archive (`COPY s.t (...) FROM stdin;`,
 *               one line per row, `\.` at the end): verifies a PostgreSQL dump without a server
 *   INSERT rows mariadb-dump/mysqldump output (`INSERT INTO \`t\` VALUES (...),(...);`): the counts
 *               of exactly the snapshot the dump took, which no second session could see
 */

export interface RowCounter {
  update(data: Uint8Array): void;
  /** Rows per table ("schema.table" for PostgreSQL, "table" for MariaDB/MySQL). */
  counts(): Map<string, number>;
}

const NL = 0x0a;
const HEAD_BYTES = 4096;

/** Rows per table in pg_restore's SQL output. */
export function copyRowCounter(): RowCounter {
  const counts = new Map<string, number>();
  let head: number[] = [];
  let table: string | undefined; // inside COPY data of this table
  function endLine() {
    const line = Buffer.from(head).toString('utf8');
    if (table !== undefined) {
      if (line === '\\.') table = undefined;
      else counts.set(table, counts.get(table)! + 1);
    } else if (line.startsWith('COPY ') && line.endsWith(' FROM stdin;')) {
      table = qualifiedName(line.slice(5));
      counts.set(table, counts.get(table) ?? 0);
    }
    head = [];
  }
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        const c = data[i];
        if (c === NL) endLine();
        else if (head.length < HEAD_BYTES) head.push(c);
      }
    },
    counts: () => counts,
  };
}

/** `public.tasks`, `"My Schema"."Tasks"` -> `public.tasks`, `My Schema.Tasks`. */
function qualifiedName(text: string): string {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let name = '';
    if (text[i] === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] === '"' && text[i + 1] === '"') (name += '"'), i++;
        else if (text[i] === '"') break;
        else name += text[i];
      }
      i++;
    } else {
      while (i < text.length && !' .('.includes(text[i])) name += text[i++];
    }
    parts.push(name);
    if (text[i] !== '.') return parts.join('.');
    i++;
  }
}

const enum S {
  LineStart,
  Head,
  Other,
  Name,
  NameTick,
  Pre,
  Values,
  Str,
  StrEsc,
}

const INSERT = Buffer.from('INSERT INTO `');
const VALUES = Buffer.from('VALUES');

/** Rows per table in a mariadb-dump/mysqldump SQL stream (extended or one-row inserts). */
export function insertRowCounter(): RowCounter {
  const counts = new Map<string, number>();
  let state = S.LineStart;
  let matched = 0; // of INSERT, or of VALUES in Pre
  let name: number[] = [];
  let table = '';
  let depth = 0;
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        const c = data[i];
        switch (state) {
          case S.LineStart:
          case S.Head:
            if (state === S.LineStart) {
              matched = 0;
              state = S.Head;
            }
            if (c === INSERT[matched]) {
              if (++matched === INSERT.length) {
                state = S.Name;
                name = [];
              }
            } else state = c === NL ? S.LineStart : S.Other;
            break;
          case S.Other:
            if (c === NL) state = S.LineStart;
            break;
          case S.Name:
            if (c === 0x60) state = S.NameTick;
            else name.push(c);
            break;
          case S.NameTick:
            if (c === 0x60) {
              name.push(c);
              state = S.Name;
            } else {
              table = Buffer.from(name).toString('utf8');
              counts.set(table, counts.get(table) ?? 0);
              state = S.Pre;
              matched = c === VALUES[0] ? 1 : 0;
            }
            break;
          case S.Pre:
            matched = c === VALUES[matched] ? matched + 1 : c === VALUES[0] ? 1 : 0;
            if (matched === VALUES.length) {
              state = S.Values;
              depth = 0;
            }
            break;
          case S.Values:
            if (c === 0x27) state = S.Str;
            else if (c === 0x28) {
              if (depth++ === 0) counts.set(table, counts.get(table)! + 1);
            } else if (c === 0x29) depth--;
            else if (c === 0x3b && depth === 0) state = S.Other;
            break;
          case S.Str:
            if (c === 0x5c) state = S.StrEsc;
            else if (c === 0x27) state = S.Values;
            break;
          case S.StrEsc:
            state = S.Str;
            break;
        }
      }
    },
    counts: () => counts,
  };
}
