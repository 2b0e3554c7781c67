import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig, UserError } from '../src/config.js';
import { tempDir } from './helpers.js';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('configuration', () => {
  afterEach(() => {
    delete process.env.ARCHIVE_CONFIG;
    delete process.env.ARCHIVE_ADMIN_TOKEN;
    delete process.env.DATABASE_URL;
    delete process.env.PORT;
    delete process.env.HOST;
  });

  it('accepts the example in the README as it is written', () => {
    const example = README.match(/```json\n(\{\n {2}"embedding"[\s\S]*?)\n```/)![1];
    const parsed = ConfigSchema.safeParse(JSON.parse(example));
    expect(parsed.success).toBe(true);
    // The example shows the defaults (null standing for "unset").
    const normal = (v: unknown) => JSON.parse(JSON.stringify(v, (_key, value) => (value === null ? undefined : value)));
    expect(normal(parsed.data)).toEqual(normal(ConfigSchema.parse({})));
  });

  it('names the field and the problem in a bad config file', () => {
    const file = join(tempDir(), 'archive.config.json');
    writeFileSync(file, JSON.stringify({ server: { adminToken: 'short', corsOrigins: ['not a url'] }, ingest: { maxFileMB: -1 } }));
    process.env.ARCHIVE_CONFIG = file;
    expect(() => loadConfig()).toThrowError(UserError);
    expect(() => loadConfig()).toThrowError(/ingest\.maxFileMB: .*; server\.adminToken: must be at least 16 characters; server\.corsOrigins\.0: /);
  });

  it('takes the admin token from ARCHIVE_ADMIN_TOKEN', () => {
    process.env.ARCHIVE_ADMIN_TOKEN = 'a-token-of-enough-length';
    expect(loadConfig().server.adminToken).toBe('a-token-of-enough-length');
  });

  it('keeps the passages in Postgres when DATABASE_URL is set, and names a URL that is not one', () => {
    expect(loadConfig().store.databaseUrl).toBeUndefined();
    process.env.DATABASE_URL = 'postgres://archive:secret@db.example:5432/archive';
    expect(loadConfig().store.databaseUrl).toBe('postgres://archive:secret@db.example:5432/archive');
    process.env.DATABASE_URL = 'mysql://archive@db.example/archive';
    expect(() => loadConfig()).toThrowError(/store\.databaseUrl: must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });

  it('takes the port and host from PORT and HOST, over the file, and names a port that is not one', () => {
    const file = join(tempDir(), 'archive.config.json');
    writeFileSync(file, JSON.stringify({ server: { port: 4000, host: '127.0.0.1' } }));
    process.env.ARCHIVE_CONFIG = file;
    expect(loadConfig().server).toMatchObject({ port: 4000, host: '127.0.0.1' });
    process.env.PORT = '8123';
    process.env.HOST = '0.0.0.0';
    expect(loadConfig().server).toMatchObject({ port: 8123, host: '0.0.0.0' });
    process.env.PORT = 'eighty';
    expect(() => loadConfig()).toThrowError(/Invalid configuration: server\.port: /);
  });

  it('says which config file is missing, or is not JSON', () => {
    process.env.ARCHIVE_CONFIG = join(tempDir(), 'nowhere.json');
    expect(() => loadConfig()).toThrowError(UserError);
    expect(() => loadConfig()).toThrowError(/Config file .*nowhere\.json \(from ARCHIVE_CONFIG\) does not exist/);
    const file = join(tempDir(), 'archive.config.json');
    writeFileSync(file, '{ "server": { "port": 4000, } }');
    process.env.ARCHIVE_CONFIG = file;
    expect(() => loadConfig()).toThrowError(UserError);
    expect(() => loadConfig()).toThrowError(/Config file .*archive\.config\.json is not valid JSON: /);
  });
});
