import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('defaults to the embedded backends and a dev secret outside production', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      redisUrl: undefined,
      lockTtlMs: 5000,
      seedDemo: true,
    });
  });

  it('turns group commit on by default, off with GROUP_COMMIT=false, and keeps a group within 64 winners', () => {
    expect(loadConfig({})).toMatchObject({ groupCommit: true, groupCommitWindowMs: 2, groupCommitMaxSize: 32 });
    expect(loadConfig({ GROUP_COMMIT: 'false' }).groupCommit).toBe(false);
    expect(() => loadConfig({ GROUP_COMMIT_MAX_SIZE: '65' })).toThrow(/GROUP_COMMIT_MAX_SIZE/);
  });

  it('names every problem at once', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', LOCK_TTL_MS: '-1', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const { problems } = error as ConfigError;
      expect(problems.map((p) => p.split(':')[0])).toEqual(
        expect.arrayContaining(['PORT', 'LOCK_TTL_MS', 'DATABASE_URL', 'JWT_SECRET']),
      );
    }
  });

  it('refuses to start in production without DATABASE_URL, REDIS_URL, JWT_SECRET and CORS_ORIGINS, naming each', () => {
    try {
      loadConfig({ NODE_ENV: 'production' });
      expect.unreachable('production must not fall back to embedded mode');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'CORS_ORIGINS']) expect(text).toContain(name);
    }
  });

  it('accepts a complete production environment', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db:5432/flux',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: 'x'.repeat(40),
      CORS_ORIGINS: 'https://tickets.example, http://localhost:5173',
    });
    expect(config.seedDemo).toBe(false);
    expect(config.jwtSecret).toBe('x'.repeat(40));
    expect(config.corsOrigins).toEqual(['https://tickets.example', 'http://localhost:5173']);
  });

  it('allows any origin (without credentials) by default outside production, and refuses a malformed origin', () => {
    expect(loadConfig({}).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://tickets.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: 'tickets.example' })).toThrow(/CORS_ORIGINS/);
  });

  it('takes a Redis Cluster as its seed nodes, in production too, and refuses it beside REDIS_URL', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db:5432/flux',
      REDIS_CLUSTER_NODES: 'cache-a:7000,10.0.0.2:7001',
      JWT_SECRET: 'x'.repeat(40),
      CORS_ORIGINS: '*',
    });
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisClusterNodes).toEqual([
      { host: 'cache-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(loadConfig({}).redisClusterNodes).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }).join()).toContain('not both');
    expect(problems({ REDIS_CLUSTER_NODES: 'redis://b:7000' }).join()).toContain('REDIS_CLUSTER_NODES');
    expect(problems({ REDIS_CLUSTER_NODES: 'b' }).join()).toContain('host:port');
  });
});
