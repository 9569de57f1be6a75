import type { SQLOutputValue } from 'node:sqlite';
import type { FilePart, FileRecord, FileState } from '@one-time/core';

type Row = Record<string, SQLOutputValue>;

const STATES: readonly FileState[] = ['uploading', 'ready', 'purging'];

/** A `files` row as the port's `FileRecord`. Checks the types instead of casting: a schema drift fails loudly. */
export function toFileRecord(row: Row): FileRecord {
  const leaseUntil = row.lease_until;
  return {
    id: text(row, 'id'),
    state: state(row),
    parts: parseParts(text(row, 'parts')),
    size: integer(row, 'size'),
    createdAt: new Date(integer(row, 'created_at')),
    expiresAt: new Date(integer(row, 'expires_at')),
    downloadsLeft: integer(row, 'downloads_left'),
    activeStreams: integer(row, 'active_streams'),
    leaseUntil: leaseUntil === null ? null : new Date(integer(row, 'lease_until')),
    deleteTokenHash: text(row, 'delete_token_hash'),
  };
}

/** Only the keys a part has: JSON drops `undefined`, so an absent size or meta stays absent. */
export function partsJson(parts: readonly FilePart[]): string {
  return JSON.stringify(parts.map(partJson));
}

export function partJson(part: FilePart): Pick<FilePart, 'blob' | 'size' | 'meta'> {
  return { blob: part.blob, size: part.size, meta: part.meta };
}

function parseParts(json: string): FilePart[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new TypeError('files.parts is not a JSON array');
  return parsed as FilePart[];
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`files.${column} is not TEXT`);
  return value;
}

export function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new TypeError(`files.${column} is not INTEGER`);
  return value;
}

function state(row: Row): FileState {
  const value = text(row, 'state');
  const known = STATES.find((candidate) => candidate === value);
  if (!known) throw new TypeError(`files.state holds an unknown state: ${value}`);
  return known;
}
