/**
 * The 25 acute-care phenotypes of the MIMIC benchmark (Harutyunyan et al. 2019, "Multitask
 * learning and benchmarking with clinical time series data", Sci Data 6:96; their
 * `hcup_ccs_2015_definitions.yaml`, entries with `use_in_benchmark: true`), used by FuseMoE's
 * 25-PHE task. Each phenotype is a set of HCUP CCS single-level diagnosis categories (2015).
 *
 * Two ways to map an ICD-9-CM code to its CCS category:
 *  - exact: the user points `data.ccsDxref` at HCUP's `$DXREF 2015.csv` (the official code →
 *    category table; not on the npm registry, so not shipped);
 *  - built in (default): the ICD-9-CM code ranges below, written by hand from the CCS 2015
 *    category definitions. They cover each category's main code blocks but are NOT the official
 *    lists (rare codes of a category may be missed or placed elsewhere); the data report says
 *    which mapping was used. Codes are MIMIC's (no dot): "4280" = 428.0.
 */

/** One phenotype: its benchmark name, CCS categories and built-in ICD-9 prefix rules. */
export interface Phenotype {
  name: string;
  ccs: number[];
  /** ICD-9-CM code prefixes that belong to the phenotype (built-in mapping). */
  include: string[];
  /** Prefixes excluded again (codes of another CCS category inside an included block). */
  exclude?: string[];
}

/** The 25 benchmark phenotypes, in the benchmark's (alphabetical) order. */
export const PHENOTYPES: Phenotype[] = [
  { name: 'Acute and unspecified renal failure', ccs: [157], include: ['584', '586', '6393', '6693'] },
  { name: 'Acute cerebrovascular disease', ccs: [109], include: ['430', '431', '432', '43301', '43311', '43321', '43331', '43381', '43391', '434', '436'] },
  { name: 'Acute myocardial infarction', ccs: [100], include: ['410'] },
  { name: 'Cardiac dysrhythmias', ccs: [106], include: ['427', '7850', '7851'], exclude: ['4275'] },
  { name: 'Chronic kidney disease', ccs: [158], include: ['585', 'V420', 'V451', 'V56'] },
  { name: 'Chronic obstructive pulmonary disease and bronchiectasis', ccs: [127], include: ['490', '491', '492', '494', '496'] },
  { name: 'Complications of surgical procedures or medical care', ccs: [237, 238], include: ['996', '997', '998', '999', '3490', '4294'], exclude: ['9980'] },
  { name: 'Conduction disorders', ccs: [105], include: ['426', 'V450', 'V533'] },
  { name: 'Congestive heart failure; nonhypertensive', ccs: [108], include: ['39891', '428'] },
  {
    name: 'Coronary atherosclerosis and other heart disease',
    ccs: [101, 104],
    include: ['411', '412', '413', '414', 'V4581', 'V4582', '391', '3920', '398', '429'],
    exclude: ['39891', '4294'],
  },
  { name: 'Diabetes mellitus with complications', ccs: [50], include: ['24901', '2491', '2492', '2493', '2494', '2495', '2496', '2497', '2498', '2499', '2501', '2502', '2503', '2504', '2505', '2506', '2507', '2508', '2509'] },
  { name: 'Diabetes mellitus without complication', ccs: [49], include: ['24900', '2500', '7902', '7915', '7916', 'V4585', 'V5391', 'V6546'] },
  { name: 'Disorders of lipid metabolism', ccs: [53], include: ['272'], exclude: ['2727'] },
  { name: 'Essential hypertension', ccs: [98], include: ['401'] },
  { name: 'Fluid and electrolyte disorders', ccs: [55], include: ['276'] },
  { name: 'Gastrointestinal hemorrhage', ccs: [153], include: ['4560', '45620', '5307', '53082', '5693', '56985', '578'] },
  { name: 'Hypertension with complications and secondary hypertension', ccs: [99], include: ['402', '403', '404', '405', '4372'] },
  { name: 'Other liver diseases', ccs: [151], include: ['570', '5714', '5715', '5716', '5718', '5719', '572', '573', '7824', '7891', '7895', '7948'] },
  {
    name: 'Other lower respiratory disease',
    ccs: [133],
    include: ['514', '515', '516', '5172', '5173', '5178', '5181', '5182', '5183', '5186', '5187', '51889', '5191', '5192', '5193', '5194', '5198', '5199', '7860', '7861', '7862', '7863', '7864', '7866', '7867', '7868', '7869', '7931'],
  },
  { name: 'Other upper respiratory disease', ccs: [134], include: ['470', '471', '472', '474', '475', '476', '477', '478', '5190', '7841', '7844', '7847', '7848', '7849'] },
  { name: 'Pleurisy; pneumothorax; pulmonary collapse', ccs: [130], include: ['510', '511', '512', '5180'] },
  {
    name: 'Pneumonia (except that caused by tuberculosis or sexually transmitted disease)',
    ccs: [122],
    include: ['480', '481', '482', '483', '484', '485', '486', '4870', '00322', '0203', '0204', '0205', '0212', '0221', '0310', '0391', '0521', '0551', '0730', '0830', '1124', '1140', '1144', '1145', '11505', '11515', '11595', '1303', '1363', '5171'],
  },
  { name: 'Respiratory failure; insufficiency; arrest (adult)', ccs: [131], include: ['5184', '5185', '51881', '51882', '51883', '51884', '7991', 'V461'] },
  { name: 'Septicemia (except in labor)', ccs: [2], include: ['0031', '0202', '0362', '038', '0545', '449', '7907', '99591', '99592'] },
  { name: 'Shock', ccs: [249], include: ['7855', '9980', '6395', '6691'] },
];

/** Short label names for the task spec (stable, ASCII). */
export function phenotypeLabels(): string[] {
  return PHENOTYPES.map((p) => p.name);
}

/** Rows (phenotype index, prefix, exclude?) of the built-in mapping table. */
export function phenotypePrefixRows(): { phenotype: number; prefix: string; exclude: boolean }[] {
  return PHENOTYPES.flatMap((p, phenotype) => [
    ...p.include.map((prefix) => ({ phenotype, prefix, exclude: false })),
    ...(p.exclude ?? []).map((prefix) => ({ phenotype, prefix, exclude: true })),
  ]);
}

/** Rows (phenotype index, CCS category) of the exact mapping (with a user-supplied $DXREF file). */
export function phenotypeCcsRows(): { phenotype: number; ccs: number }[] {
  return PHENOTYPES.flatMap((p, phenotype) => p.ccs.map((ccs) => ({ phenotype, ccs })));
}
