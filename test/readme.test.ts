import { existsSync, readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);

describe('the README', () => {
  it('has GraphQL examples to paste', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it.each(blocks.map((block) => [block.split('\n')[0], block]))('%s … is valid against the schema', (_title, block) => {
    expect(validate(schema, parse(block as string)).map((error) => error.message)).toEqual([]);
  });
});

describe('the load-test README and its results log', () => {
  const usage = readFileSync(new URL('../loadtest/README.md', import.meta.url), 'utf8');
  const logUrl = new URL('../loadtest/results/LOG.md', import.meta.url);
  const log = readFileSync(logUrl, 'utf8');

  it('keeps the README to usage: measured runs, by commit or by result file, are in the log', () => {
    expect(usage.match(/`[0-9a-f]{7}`/g) ?? []).toEqual([]);
    expect(usage.match(/\d{8}_\d{6}_[0-9a-f]{4}/g) ?? []).toEqual([]);
    expect(usage).toContain('](results/LOG.md)');
  });

  it('keeps the log newest first', () => {
    const dates = [...log.matchAll(/^## (\d{4}-\d{2}-\d{2})/gm)].map((match) => match[1]);
    expect(dates.length).toBeGreaterThan(1);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('links only files that exist', () => {
    const links = [...log.matchAll(/\]\(([^)#]+)\)/g)].map((match) => match[1] as string);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !existsSync(new URL(link, logUrl)))).toEqual([]);
  });
});
