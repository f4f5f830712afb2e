import 'fake-indexeddb/auto';
import { startFeature } from '../../../src/sw/feature-contracts.js';
import { memoryStorage } from '../../../src/sw/features/memory-storage.js';
import type { SessionEvent } from '../../../src/shared/protocol.js';
import type { SessionStore } from '../../../src/sw/session.js';
import { openDatabase, type Database } from '../../../src/sw/storage/database.js';

let count = 0;
/** A database name no other test uses (fake-indexeddb keeps every database for the whole run). */
export const freshDatabaseName = (): string => `test-db-${++count}-${Math.random().toString(36).slice(2)}`;

/** The worker's database, under a fresh name. */
export const freshDatabase = (): Database => openDatabase(freshDatabaseName());

/** The session store `memoryStorage()` starts with, over `db`. */
export const memorySessions = (db: Database, events: SessionEvent[] = []): SessionStore =>
  startFeature(memoryStorage(), { db, emit: (event) => events.push(event), now: () => 1 })!.sessions;
