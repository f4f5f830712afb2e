import { openDB } from 'idb';
(self as any).x = openDB;
