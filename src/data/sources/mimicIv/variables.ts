/**
 * The measured variables of the vitals (icu/chartevents) and labs (hosp/labevents) modalities:
 * which itemids feed each variable, which units are accepted (with the linear conversion to the
 * variable's unit) and the plausible range outside which a value is dropped and counted.
 *
 * Selection: FuseMoE App. B / Soenksen et al. 2022 (HAIM) — 9 vitals (HR, mean/systolic/diastolic
 * BP, RR, SpO2, GCS eye/verbal/motor) plus temperature, and 21 labs. Itemids are MIMIC-IV's
 * (d_items / d_labitems, checked against the demo's dictionaries: labels in the comments).
 * Ranges are physiological plausibility limits (values outside are recording errors, not
 * extreme patients); they are this module's own table — override per variable with
 * `data.ranges`.
 */

/** An accepted unit: the `valueuom` text (lower-cased, trimmed; null = no unit recorded) and x' = x·scale + offset. */
export interface UnitRule {
  unit: string | null;
  scale: number;
  offset: number;
}

/** One variable of an event modality. */
export interface EventVariable {
  name: string;
  /** itemids whose values are this variable (after unit conversion). */
  itemids: number[];
  /** The variable's unit after harmonisation. */
  unit: string;
  /** Accepted units per itemid (default: `units`). */
  units: UnitRule[];
  /** Per-itemid unit rules overriding `units` (e.g. the Fahrenheit temperature item). */
  itemUnits?: Record<number, UnitRule[]>;
  /** Plausible range [min, max] in `unit`. */
  range: [number, number];
}

const as = (...units: (string | null)[]): UnitRule[] => units.map((unit) => ({ unit, scale: 1, offset: 0 }));

/** Vital signs from icu/chartevents (MIMIC-IV MetaVision itemids). */
export const VITALS: EventVariable[] = [
  { name: 'HR', itemids: [220045], unit: 'bpm', units: as('bpm', null), range: [1, 300] }, // Heart Rate
  { name: 'SBP', itemids: [220179, 220050], unit: 'mmHg', units: as('mmhg', null), range: [20, 300] }, // NIBP / ABP systolic
  { name: 'DBP', itemids: [220180, 220051], unit: 'mmHg', units: as('mmhg', null), range: [5, 225] }, // NIBP / ABP diastolic
  { name: 'MBP', itemids: [220181, 220052], unit: 'mmHg', units: as('mmhg', null), range: [10, 250] }, // NIBP / ABP mean
  { name: 'RR', itemids: [220210, 224690], unit: 'insp/min', units: as('insp/min', null), range: [1, 80] }, // Respiratory Rate (Total)
  { name: 'SpO2', itemids: [220277], unit: '%', units: as('%', null), range: [20, 100] }, // O2 saturation pulseoxymetry
  {
    name: 'Temp',
    itemids: [223762, 223761], // Temperature Celsius, Temperature Fahrenheit
    unit: '°C',
    units: as('°c', 'deg. c', null),
    itemUnits: { 223761: [{ unit: '°f', scale: 5 / 9, offset: (-32 * 5) / 9 }, { unit: 'deg. f', scale: 5 / 9, offset: (-32 * 5) / 9 }, { unit: null, scale: 5 / 9, offset: (-32 * 5) / 9 }] },
    range: [25, 45],
  },
  { name: 'GCS_eye', itemids: [220739], unit: 'score', units: as(null), range: [1, 4] }, // GCS - Eye Opening
  { name: 'GCS_verbal', itemids: [223900], unit: 'score', units: as(null), range: [1, 5] }, // GCS - Verbal Response
  { name: 'GCS_motor', itemids: [223901], unit: 'score', units: as(null), range: [1, 6] }, // GCS - Motor Response
];

/** Labs from hosp/labevents (blood chemistry and haematology). */
export const LABS: EventVariable[] = [
  { name: 'Potassium', itemids: [50971], unit: 'mEq/L', units: as('meq/l', 'mmol/l'), range: [0.5, 15] },
  { name: 'Sodium', itemids: [50983], unit: 'mEq/L', units: as('meq/l', 'mmol/l'), range: [80, 200] },
  { name: 'Chloride', itemids: [50902], unit: 'mEq/L', units: as('meq/l', 'mmol/l'), range: [50, 170] },
  { name: 'Creatinine', itemids: [50912], unit: 'mg/dL', units: as('mg/dl'), range: [0.05, 40] },
  { name: 'UreaNitrogen', itemids: [51006], unit: 'mg/dL', units: as('mg/dl'), range: [0.5, 300] },
  { name: 'Bicarbonate', itemids: [50882], unit: 'mEq/L', units: as('meq/l', 'mmol/l'), range: [2, 70] },
  { name: 'AnionGap', itemids: [50868], unit: 'mEq/L', units: as('meq/l', 'mmol/l'), range: [-10, 80] },
  { name: 'Hemoglobin', itemids: [51222], unit: 'g/dL', units: as('g/dl'), range: [1, 25] },
  { name: 'Hematocrit', itemids: [51221], unit: '%', units: as('%'), range: [5, 75] },
  { name: 'Magnesium', itemids: [50960], unit: 'mg/dL', units: as('mg/dl'), range: [0.2, 12] },
  { name: 'Platelets', itemids: [51265], unit: 'K/uL', units: as('k/ul'), range: [1, 2500] },
  { name: 'Phosphate', itemids: [50970], unit: 'mg/dL', units: as('mg/dl'), range: [0.2, 25] },
  { name: 'WBC', itemids: [51301, 51300], unit: 'K/uL', units: as('k/ul'), range: [0, 500] }, // White Blood Cells, WBC Count
  { name: 'CalciumTotal', itemids: [50893], unit: 'mg/dL', units: as('mg/dl'), range: [2, 20] },
  { name: 'MCH', itemids: [51248], unit: 'pg', units: as('pg'), range: [10, 60] },
  { name: 'RBC', itemids: [51279], unit: 'm/uL', units: as('m/ul'), range: [0.5, 10] },
  { name: 'MCHC', itemids: [51249], unit: 'g/dL', units: as('g/dl', '%'), range: [15, 50] }, // both units occur; g/dL ≡ % for MCHC
  { name: 'MCV', itemids: [51250], unit: 'fL', units: as('fl'), range: [40, 160] },
  { name: 'RDW', itemids: [51277], unit: '%', units: as('%'), range: [5, 40] },
  { name: 'Neutrophils', itemids: [51256], unit: '%', units: as('%'), range: [0, 100] },
  { name: 'Vancomycin', itemids: [51009], unit: 'ug/mL', units: as('ug/ml'), range: [0, 150] },
];

/** Rows of the (itemid → variable, accepted unit, conversion, range) table an extraction query joins. */
export interface UnitRow {
  itemid: number;
  variable: number;
  unit: string | null;
  scale: number;
  offset: number;
  lo: number | null;
  hi: number | null;
}

/** Flatten variables into unit rows; `ranges` overrides a variable's range (null = unbounded). */
export function unitRows(variables: EventVariable[], ranges: Record<string, [number | null, number | null]>): UnitRow[] {
  const rows: UnitRow[] = [];
  variables.forEach((v, variable) => {
    const [lo, hi] = ranges[v.name] ?? v.range;
    for (const itemid of v.itemids) {
      for (const u of v.itemUnits?.[itemid] ?? v.units) rows.push({ itemid, variable, unit: u.unit, scale: u.scale, offset: u.offset, lo, hi });
    }
  });
  return rows;
}
