/**
 * PhysioNet 2012 variables: the 6 descriptors, the 37 time-series variables, the named groupings
 * into modalities and the plausible-range table (docs/DATA.md explains every range).
 */

/** The general descriptors (first 00:00 rows of every record file). */
export const P12_DESCRIPTORS = ['RecordID', 'Age', 'Gender', 'Height', 'ICUType', 'Weight'] as const;

/** The 37 time-series variables (PhysioNet's list, alphabetical as in the challenge docs). */
export const P12_VARIABLES = [
  'Albumin', 'ALP', 'ALT', 'AST', 'Bilirubin', 'BUN', 'Cholesterol', 'Creatinine', 'DiasABP',
  'FiO2', 'GCS', 'Glucose', 'HCO3', 'HCT', 'HR', 'K', 'Lactate', 'Mg', 'MAP', 'MechVent', 'Na',
  'NIDiasABP', 'NIMAP', 'NISysABP', 'PaCO2', 'PaO2', 'pH', 'Platelets', 'RespRate', 'SaO2',
  'SysABP', 'Temp', 'TroponinI', 'TroponinT', 'Urine', 'WBC', 'Weight',
] as const;

/** Features of the `static` modality (ICUType is one-hot encoded as 4 features). */
export const P12_STATIC_FEATURES = [
  'Age', 'Gender', 'Height', 'ICUType=1', 'ICUType=2', 'ICUType=3', 'ICUType=4', 'Weight',
] as const;

const VITALS_15 = [
  'HR', 'Temp', 'RespRate', 'GCS', 'Urine', 'Weight', 'SysABP', 'DiasABP', 'MAP', 'NISysABP',
  'NIDiasABP', 'NIMAP', 'SaO2', 'FiO2', 'MechVent',
];

/** Named groupings of the 37 variables into time-series modalities. */
export const P12_GROUPINGS: Record<'vitals-labs' | 'seven-groups', Record<string, string[]>> = {
  'vitals-labs': {
    vitals: VITALS_15,
    labs: P12_VARIABLES.filter((v) => !VITALS_15.includes(v)),
  },
  // Exactly the grouping of shared/data/physionet2012/convert/p12_stats.py.
  'seven-groups': {
    vitals: ['HR', 'Temp', 'RespRate', 'GCS', 'Urine', 'Weight'],
    bp_invasive: ['SysABP', 'DiasABP', 'MAP'],
    bp_noninvasive: ['NISysABP', 'NIDiasABP', 'NIMAP'],
    chem_hema: ['BUN', 'Creatinine', 'Glucose', 'HCO3', 'HCT', 'K', 'Mg', 'Na', 'Platelets', 'WBC'],
    blood_gas_vent: ['pH', 'PaCO2', 'PaO2', 'SaO2', 'FiO2', 'MechVent', 'Lactate'],
    liver: ['ALP', 'ALT', 'AST', 'Bilirubin', 'Albumin'],
    cardiac_lipid: ['TroponinI', 'TroponinT', 'Cholesterol'],
  },
};

/** An inclusive plausible range; `null` = unbounded on that side. */
export type Range = [number | null, number | null];

/**
 * Plausible ranges (inclusive) of the time-series variables and of the descriptors Age, Height,
 * Weight (descriptor ranges use keys `Age`, `Height`, and `Weight` is shared with the series).
 * Values outside are dropped and counted per variable. Rationale per row in docs/DATA.md.
 */
export const P12_RANGES: Record<string, Range> = {
  Albumin: [0.5, 8],
  ALP: [1, 5000],
  ALT: [1, 20000],
  AST: [1, 30000],
  Bilirubin: [0, 80],
  BUN: [0, 300],
  Cholesterol: [10, 1000],
  Creatinine: [0.05, 30],
  DiasABP: [1, 250],
  FiO2: [0.21, 1],
  GCS: [3, 15],
  Glucose: [1, 2000],
  HCO3: [1, 60],
  HCT: [5, 80],
  HR: [1, 300],
  K: [1, 12],
  Lactate: [0.1, 40],
  Mg: [0.2, 10],
  MAP: [1, 300],
  MechVent: [0, 1],
  Na: [90, 200],
  NIDiasABP: [1, 250],
  NIMAP: [1, 300],
  NISysABP: [1, 300],
  PaCO2: [5, 200],
  PaO2: [10, 800],
  pH: [6.5, 8.0],
  Platelets: [1, 2000],
  RespRate: [1, 100],
  SaO2: [0, 100],
  SysABP: [1, 300],
  Temp: [25, 45],
  TroponinI: [0, 100],
  TroponinT: [0, 50],
  Urine: [0, 24000],
  WBC: [0, 200],
  Weight: [20, 300],
  Age: [0, 120],
  Height: [100, 250],
};
