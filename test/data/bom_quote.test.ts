import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readJsonl } from '../../src/data/sources/jsonl.js';
import { readLongCsv } from '../../src/data/sources/longCsv.js';
import { readPhysioNet2012 } from '../../src/data/sources/physionet2012.js';
import { readConfigFile } from '../../src/config/parse.js';
import { assertDataError, p12Outcomes, p12Record, tmpDir, writeFiles } from './fixtures.js';

const BOM = '\uFEFF';
const spec = { name: 'b', modalities: [{ name: 'demo', kind: 'static', features: ['age'] }], task: { kind: 'binary', name: 'y' }, horizonHours: 1 };

test('a BOM is accepted by every reader: JSONL, long CSV, PhysioNet records and outcomes, config files', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'd.jsonl': BOM + [JSON.stringify({ fleximodal: 1, spec }), '{"id":"a","label":1,"modalities":{"demo":{"values":[3]}}}', ''].join('\n'),
    'o.csv': BOM + 'id,time,variable,value\np1,0,HR,80\n',
    'l.csv': BOM + 'id,label\np1,1\n',
    'rec/132539.txt': BOM + p12Record(132539),
    'out.txt': BOM + p12Outcomes([[132539, 0]]),
    'c.json': BOM + '{"name": "x"}',
  });
  assert.equal((await readJsonl(join(dir, 'd.jsonl'))).samples.length, 1);
  assert.equal((await readLongCsv({ path: 'o.csv', labels: 'l.csv', modalityMap: { HR: 'vitals' }, baseDir: dir })).samples.length, 1);
  assert.equal((await readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir })).samples.length, 1);
  assert.deepEqual(readConfigFile(join(dir, 'c.json')), { name: 'x' });
});

test('an unclosed CSV quote is reported at the line where it opened', async () => {
  const dir = tmpDir();
  const rows = ['id,time,variable,value', 'p1,0,HR,80', 'p1,1,HR,81', '"p1,2,HR,82', 'p1,3,HR,83', 'p1,4,HR,84', ''];
  writeFiles(dir, { 'o.csv': rows.join('\n'), 'l.csv': 'id,label\np1,1\n' });
  await assertDataError(() => readLongCsv({ path: 'o.csv', labels: 'l.csv', modalityMap: { HR: 'vitals' }, baseDir: dir }), 'o.csv:4', 'quote opened on this line is never closed');
});
