/**
 * A tiny MIMIC-IV-shaped directory written as gzip'd CSV in PhysioNet's real column layout
 * (v2.2 headers, the same as v3.x for these tables), with hand-chosen rows whose extraction
 * results are computed by hand in the tests. It includes an icu/chartevents table, which the
 * openly licensed demo lacks, so the vitals path is tested here.
 *
 * Stays (intime → outtime):
 *  - 100 (subject 1, adult, 72 h, discharged alive) — in the cohort; IHM 0, LOS 1
 *  - 101 (subject 1, 12 h) — excluded: shorter than 48 h
 *  - 200 (subject 2, anchor_age 17) — excluded: younger than 18
 *  - 300 (subject 3, 96 h, died at ICU discharge) — in the cohort; IHM 1, LOS 0
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tmpDir } from '../fixtures.js';

/** Header lines of the tables (PhysioNet MIMIC-IV v2.2 layout). */
export const HEADERS = {
  'hosp/patients': 'subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod',
  'hosp/admissions':
    'subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag',
  'icu/icustays': 'subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los',
  'icu/chartevents': 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning',
  'hosp/labevents': 'labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments',
  'hosp/diagnoses_icd': 'subject_id,hadm_id,seq_num,icd_code,icd_version',
} as const;

/** The fixture's rows per table (without header). */
export const ROWS: Record<keyof typeof HEADERS, string[]> = {
  'hosp/patients': ['1,M,60,2180,2017 - 2019,', '2,F,17,2180,2017 - 2019,', '3,F,70,2180,2017 - 2019,2180-01-05'],
  'hosp/admissions': [
    '1,10,2180-01-01 00:00:00,2180-01-10 00:00:00,,EW EMER.,P1,EMERGENCY ROOM,HOME,Other,ENGLISH,MARRIED,WHITE,,,0',
    '1,11,2179-06-01 00:00:00,2179-06-05 00:00:00,,EW EMER.,P1,EMERGENCY ROOM,HOME,Other,ENGLISH,MARRIED,WHITE,,,0',
    '2,20,2180-02-01 00:00:00,2180-02-09 00:00:00,,EW EMER.,P1,EMERGENCY ROOM,HOME,Other,ENGLISH,SINGLE,WHITE,,,0',
    '3,30,2180-01-01 00:00:00,2180-01-05 12:00:00,2180-01-05 12:00:00,EW EMER.,P1,EMERGENCY ROOM,DIED,Other,ENGLISH,WIDOWED,WHITE,,,1',
  ],
  'icu/icustays': [
    '1,10,100,MICU,MICU,2180-01-01 06:00:00,2180-01-04 06:00:00,3',
    '1,10,101,MICU,MICU,2180-01-08 00:00:00,2180-01-08 12:00:00,0.5',
    '2,20,200,SICU,SICU,2180-02-01 00:00:00,2180-02-05 00:00:00,4',
    '3,30,300,CCU,CCU,2180-01-01 12:00:00,2180-01-05 12:00:00,4',
  ],
  'icu/chartevents': [
    '1,10,100,7,2180-01-01 07:00:00,2180-01-01 07:05:00,220045,80,80,bpm,0', // HR 80 at 1 h
    '1,10,100,7,2180-01-01 07:00:00,2180-01-01 07:06:00,220045,90,90,bpm,0', // HR 90 at 1 h → averaged to 85
    '1,10,100,7,2180-01-01 08:00:00,2180-01-01 08:05:00,223761,98.6,98.6,°F,0', // Temp 98.6 °F at 2 h → 37 °C
    '1,10,100,7,2180-01-01 09:00:00,2180-01-01 09:05:00,220179,400,400,mmHg,0', // SBP 400: out of range
    '1,10,100,7,2180-01-01 10:00:00,2180-01-01 10:05:00,220277,97,97,mmHg,0', // SpO2 in mmHg: unit not harmonised
    '1,10,100,7,2180-01-01 11:00:00,2180-01-01 11:05:00,223901,Obeys Commands,6,,0', // GCS motor 6 at 5 h
    '1,10,100,7,2180-01-01 12:00:00,2180-01-01 12:05:00,220045,___,,bpm,0', // HR without a number
    '1,10,100,7,2180-01-03 08:00:00,2180-01-03 08:05:00,220045,70,70,bpm,0', // 50 h: outside the window
    '1,10,100,7,2180-01-01 08:00:00,2180-01-01 08:05:00,226512,70,70,kg,0', // another item: not selected
    '3,30,300,8,2180-01-01 12:30:00,2180-01-01 12:35:00,220045,110,110,bpm,0', // HR 110 at 0.5 h
  ],
  'hosp/labevents': [
    '1,1,10,1,50971,,2180-01-01 08:00:00,2180-01-01 09:00:00,4.0,4.0,mEq/L,3.3,5.1,,ROUTINE,', // K 4.0 at 2 h (stay 100)
    '2,1,10,1,51249,,2180-01-01 08:00:00,2180-01-01 09:00:00,33,33,%,31,37,,ROUTINE,', // MCHC 33 % (≡ g/dL)
    '3,1,,2,50983,,2180-01-01 05:00:00,2180-01-01 05:30:00,139,139,mEq/L,135,145,,STAT,', // before intime: outside
    '4,3,30,3,50983,,2180-01-01 13:00:00,2180-01-01 13:30:00,140,140,mEq/L,135,145,,STAT,', // Na 140 at 1 h (stay 300)
  ],
  'hosp/diagnoses_icd': ['1,10,1,4280,9', '1,10,2,4019,9', '1,11,1,4019,9', '3,30,1,A419,10', '3,30,2,R6521,10'],
};

/** Write the fixture (optionally with changed headers/rows, or without some tables); returns the directory. */
export function writeMimicFixture(opts: { omit?: (keyof typeof HEADERS)[]; headers?: Partial<Record<keyof typeof HEADERS, string>>; dir?: string } = {}): string {
  const dir = opts.dir ?? tmpDir('fm-mimic-');
  for (const [table, header] of Object.entries(HEADERS) as [keyof typeof HEADERS, string][]) {
    if (opts.omit?.includes(table)) continue;
    const path = join(dir, `${table}.csv.gz`);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, gzipSync([opts.headers?.[table] ?? header, ...ROWS[table], ''].join('\n')));
  }
  mkdirSync(join(dir, 'icu'), { recursive: true });
  mkdirSync(join(dir, 'hosp'), { recursive: true });
  return dir;
}
