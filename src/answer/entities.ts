import { trainable } from '../embed/index.js';
import { stemOf, words } from '../text/tokens.js';
import type { AnswerType } from './question.js';

/**
 * A light tagger for the things answers carry: numbers, quantities, dates, people, organisations,
 * places, and cues of causes, manners and definitions. Rules and short word lists, so a sentence
 * takes microseconds (compromise, the npm NLP library, took about 6 ms a sentence here: 100 ms a
 * query); the answer scorer learns how much to trust each tag.
 */

/** A run of a sentence's tokens (token indexes, end exclusive) and its lower-cased words. */
export interface Mention {
  start: number;
  end: number;
  words: string[];
}

export interface SentenceTags {
  /** Lower-cased tokens (as text/tokens.ts words() splits them), their stems, and the set of them. */
  tokens: string[];
  stems: string[];
  words: Set<string>;
  /** Distinct content words (trainable: not stop words), which meaning-based matching compares. */
  content: string[];
  /** Whether it puts its figure in the past ("used to be 100 minutes", "years ago"). */
  past: boolean;
  mentions: Record<Exclude<AnswerType, 'other' | 'yesno'>, Mention[]>;
}

const wordSet = (list: string) => new Set(list.split(' '));
const NUMBER_WORDS = new Set('one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion trillion dozen dozens hundreds thousands millions billions half quarter'.split(' '));
const UNITS = wordSet('minute minutes hour hours day days week weeks month months year years decade decades century centuries second seconds mile miles km kilometre kilometres kilometer kilometers metre metres meter meters feet foot inch inches acre acres hectare hectares kg kilogram kilograms tonne tonnes ton tons pound pounds dollar dollars euro euros pence per percent cent degree degrees people residents times % £ $');
const MONTHS = wordSet('january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec');
const DATE_WORDS = wordSet('monday tuesday wednesday thursday friday saturday sunday spring summer autumn winter century decade yesterday today tomorrow ago bc ad bce ce');
const HONORIFICS = wordSet('mr mrs ms miss dr sir dame lord lady cllr councillor professor prof rev saint st king queen prince princess president minister secretary chancellor leader mayor senator judge general captain chairman');
const ORGANISATION_WORDS = wordSet('council authority partnership party company corporation university college school police constabulary service services centre center association group board commission department agency trust forum ltd limited inc plc bank society institute institution office ministry government parliament senate committee club fc nhs foundation federation union league network records studios airlines church army navy court');
const PLACE_WORDS = wordSet('city county river island isle isles street road mountain mountains lake sea ocean valley forest kingdom republic states state province bay coast park district region village town harbour harbor port peninsula desert strait channel heights hill hills');
const PLACE_PREPOSITIONS = wordSet('in at from near across to into throughout around outside inside');
const CAUSE_CUES = wordSet('because due since therefore hence thus consequently reason reasons caused causes cause led leads result resulted owing after refused rejected failed stalled so');
const MANNER_CUES = wordSet('by through using via when formed made produced works uses process method means');
/** Capitalised words that start sentences or name months and days, not names. */
const NOT_NAMES = wordSet('the a an this that these those it its in on at of for and but or he she they we i you his her their our there here when where what which who how why if as by with from to after before during while although however also some many most all each every one two three no not yes mr mrs ms');

/** Words that put a sentence's figure in the past. */
const PAST = / (used to|years ago|previously|formerly|originally|once|in the past|no longer) /;

const isNumber = (token: string) => /^\d[\d,.]*(st|nd|rd|th|s)?$/.test(token) || NUMBER_WORDS.has(token);
const isYear = (token: string) => /^(1\d\d\d|20\d\d)s?$/.test(token);

/**
 * Tokens of a sentence with their original case (for capitalisation) and lower-cased, and for each
 * whether punctuation stands between it and the previous token (a name does not run across a comma).
 */
function tokenize(sentence: string): { raw: string[]; lower: string[]; broken: boolean[] } {
  const matches = [...sentence.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’.-]*[\p{L}\p{N}]|[\p{L}\p{N}]|[£$%]/gu)];
  const raw = matches.map((m) => m[0].replace(/['’]s$/, ''));
  const broken = matches.map((m, i) => i > 0 && /[^\s]/.test(sentence.slice(matches[i - 1].index! + matches[i - 1][0].length, m.index)));
  // Lower-cased as words() would, accents stripped only where there are any (most tokens are ASCII).
  const lower = raw.map((t) => (/^[\x00-\x7f]*$/.test(t) ? t.toLowerCase().replace(/['’.-]/g, '') : words(t).join('')) || t.toLowerCase());
  return { raw, lower, broken };
}

const mention = (lower: string[], start: number, end: number): Mention => ({ start, end, words: lower.slice(start, end) });

/** Tags one sentence. */
export function tagSentence(sentence: string): SentenceTags {
  const { raw, lower, broken } = tokenize(sentence);
  const capitalised = (i: number) => /^\p{Lu}/u.test(raw[i] ?? '') && !NOT_NAMES.has(lower[i]) && !MONTHS.has(lower[i]) && !DATE_WORDS.has(lower[i]);
  const mentions: SentenceTags['mentions'] = { number: [], quantity: [], date: [], person: [], organisation: [], place: [], cause: [], manner: [], definition: [] };

  for (let i = 0; i < raw.length; i++) {
    const t = lower[i];
    if (isYear(t) || MONTHS.has(t) || DATE_WORDS.has(t) || /^\d{1,2}\/\d{1,2}\/\d{2,4}$/.test(t)) mentions.date.push(mention(lower, i, i + 1));
    if (isNumber(t) && !isYear(t)) {
      mentions.number.push(mention(lower, i, i + 1));
      const unit = [lower[i + 1], lower[i + 2]].some((u) => u !== undefined && UNITS.has(u)) || raw[i - 1] === '£' || raw[i - 1] === '$';
      if (unit) mentions.quantity.push(mention(lower, i, Math.min(raw.length, i + 2)));
    }
    if (CAUSE_CUES.has(t)) mentions.cause.push(mention(lower, i, i + 1));
    if (MANNER_CUES.has(t)) mentions.manner.push(mention(lower, i, i + 1));
  }

  // Runs of capitalised words (a sentence's first word only when the next is capitalised too).
  for (let i = 0; i < raw.length; ) {
    if (!capitalised(i) || (i === 0 && !capitalised(1))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < raw.length && !broken[end] && (capitalised(end) || (/^(of|de|van|von|the)$/.test(lower[end]) && capitalised(end + 1) && !broken[end + 1]))) end++;
    const run = mention(lower, i, end);
    const honorific = i > 0 && HONORIFICS.has(lower[i - 1]);
    if (run.words.some((w) => ORGANISATION_WORDS.has(w)) || /^[A-Z]{2,6}$/.test(raw[i])) mentions.organisation.push(run);
    else if (run.words.some((w) => PLACE_WORDS.has(w)) || (i > 0 && PLACE_PREPOSITIONS.has(lower[i - 1]) && end - i <= 2)) mentions.place.push(run);
    else if (end - i >= 2 || honorific) mentions.person.push(run);
    else mentions.place.push(run);
    i = end;
  }

  // "X is a ...", "X refers to ...", "X means ...": a sentence that defines something.
  for (let i = 1; i + 1 < lower.length; i++) {
    if ((/^(is|are|was|were)$/.test(lower[i]) && /^(a|an|the|one)$/.test(lower[i + 1])) || (lower[i] === 'refers' && lower[i + 1] === 'to') || lower[i] === 'means' || (lower[i] === 'defined' && lower[i + 1] === 'as')) {
      mentions.definition.push(mention(lower, 0, i));
    }
  }
  return { tokens: lower, stems: lower.map(stemOf), words: new Set(lower), content: [...new Set(lower.filter(trainable))], past: PAST.test(` ${lower.join(' ')} `), mentions };
}
