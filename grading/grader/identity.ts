/**
 * Who a submission is: from each folder name of a class, a unique, readable file-name id (used for
 * `feedback/<id>.html`, `executed/<id>/` and the rows of every report) and the display name, with
 * its accents. Moodle's "Download all submissions" folders (`Nom Prénom_123456_assignsubmission_file_`)
 * give the name and the participant number separately.
 */

/** The longest id, in characters (file systems allow 255 bytes; reports stay readable). */
export const MAX_ID_LENGTH = 80;

/** The id of a submission whose name has no letter or digit left once transliterated. */
const FALLBACK_ID = 'soumission';

/** Who one submission folder is. */
export interface SubmissionIdentity {
  /** Unique within the class, lower-case ASCII `[a-z0-9._-]`, never empty, `.` or `..`. */
  id: string;
  /** The student's name as the folder gives it, accents kept (Moodle: the name part only). */
  name: string;
  /** Moodle's participant number, when the folder is one of Moodle's. */
  participant?: string;
  /** The folder name, as on disk. */
  folder: string;
}

/**
 * Letters NFKD does not split into a base letter and marks, and punctuation that should vanish
 * rather than become a separator (apostrophes, the Catalan middle dot of « l·l »).
 */
const TRANSLITERATION: Record<string, string> = {
  Æ: 'ae', æ: 'ae', Œ: 'oe', œ: 'oe', ß: 'ss', ẞ: 'ss', Ł: 'l', ł: 'l', Ø: 'o', ø: 'o',
  Đ: 'd', đ: 'd', Ð: 'd', ð: 'd', Þ: 'th', þ: 'th', ı: 'i', Ħ: 'h', ħ: 'h', Ŧ: 't', ŧ: 't',
  ĸ: 'k', Ŋ: 'n', ŋ: 'n', ſ: 's', ƒ: 'f', Ə: 'e', ə: 'e', Ɨ: 'i', ɨ: 'i', Ɖ: 'd', ɖ: 'd',
  '·': '', '’': '', 'ʼ': '',
};

/** Moodle's folder: `<full name>_<participant number>_assignsubmission_<plugin>_`. */
const MOODLE_FOLDER = /^(.+)_(\d+)_assignsubmission_[a-z0-9]+_$/;

/** Folder names in a total, deterministic order: French collation, then code points for ties (NFC vs NFD). */
export function compareFolderNames(a: string, b: string): number {
  return a.localeCompare(b, 'fr') || (a < b ? -1 : a > b ? 1 : 0);
}

/** Lower-case ASCII `[a-z0-9._-]` for a text: accents and ligatures transliterated, separators collapsed, at most `maxLength` characters; may be empty. */
export function slugify(text: string, maxLength = MAX_ID_LENGTH): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^\x00-\x7f]/g, (c) => TRANSLITERATION[c] ?? c)
    .replace(/['`]/g, '') // apostrophes vanish: O'Brien -> obrien
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    // A run of separators becomes one: itself when the run repeats one character, otherwise '-'.
    .replace(/[._-]{2,}/g, (run) => (new Set(run).size === 1 ? run[0] : '-'));
  return trimSeparators(trimSeparators(ascii).slice(0, maxLength));
}

/** No leading separator (no hidden file, no `.` or `..`), no trailing one. */
function trimSeparators(text: string): string {
  return text.replace(/^[._-]+|[._-]+$/g, '');
}

/** A display name: NFC (macOS archives give NFD), no control characters, single spaces. */
function displayName(text: string): string {
  return text.normalize('NFC').replace(/\p{Cc}+/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** The name, participant number and preferred id of one folder, before the class makes ids unique. */
export function parseFolderName(folder: string): { name: string; participant?: string; baseId: string } {
  const moodle = MOODLE_FOLDER.exec(folder.normalize('NFC'));
  if (moodle) {
    const name = displayName(moodle[1]);
    const participant = moodle[2].slice(0, MAX_ID_LENGTH);
    const namePart = slugify(name, MAX_ID_LENGTH - participant.length - 1);
    return { name: name || participant, participant, baseId: namePart ? `${namePart}_${participant}` : participant };
  }
  const name = displayName(folder);
  return { name: name || folder, baseId: slugify(name) || FALLBACK_ID };
}

/** `base` with the suffix `-n`, cut so that the whole stays within MAX_ID_LENGTH. */
function withSuffix(base: string, n: number): string {
  const suffix = `-${n}`;
  return `${trimSeparators(base.slice(0, MAX_ID_LENGTH - suffix.length)) || FALLBACK_ID.slice(0, MAX_ID_LENGTH - suffix.length)}${suffix}`;
}

/**
 * The identities of a class's folders, in the order given, with unique ids: when several folders
 * want the same id, the first in folder-name order keeps it and the others get `-2`, `-3`...
 * (never an id another folder wants for itself).
 */
export function identifySubmissions(folders: readonly string[]): SubmissionIdentity[] {
  const parsed = folders.map((folder) => ({ folder, ...parseFolderName(folder) }));
  const wanted = new Set(parsed.map((p) => p.baseId));
  const taken = new Set<string>();
  const ids = new Array<string>(folders.length);
  const order = parsed.map((_, i) => i).sort((a, b) => compareFolderNames(folders[a], folders[b]) || a - b);
  for (const i of order) {
    const base = parsed[i].baseId;
    let id = base;
    // A suffixed id is never one another folder wants for itself (`bob-2` keeps `bob-2`).
    for (let n = 2; taken.has(id) || (id !== base && wanted.has(id)); n++) id = withSuffix(base, n);
    taken.add(id);
    ids[i] = id;
  }
  return parsed.map(({ folder, name, participant }, i) => ({ id: ids[i], name, ...(participant ? { participant } : {}), folder }));
}
