import { queryTerms, words } from '../text/tokens.js';
import { lexicalTerms } from '../text/tokens.js';

/** What kind of thing a question asks for. */
export const ANSWER_TYPES = ['number', 'quantity', 'date', 'person', 'organisation', 'place', 'cause', 'manner', 'definition', 'yesno', 'other'] as const;
export type AnswerType = (typeof ANSWER_TYPES)[number];

/** A question as the answer scorer reads it. */
export interface Question {
  text: string;
  type: AnswerType;
  /** Stem of the noun the question is about ("minister" in "which government minister..."); null when it names none. */
  focus: string | null;
  /** Stemmed content terms (without the question's own words), in order. */
  terms: string[];
  /** Lower-cased words of the names the question mentions ("roy", "perry"), which an answer should be about. */
  names: string[];
  /** The time the question asks about: now ("how long does it take now"), before ("used to"), or either. */
  tense: 'present' | 'past' | null;
}

/** Auxiliary verbs: "what did" asks about an event, "what year" for a thing. */
export const AUXILIARY = new Set('is are was were be been being am do does did has have had will would shall should can could may might must'.split(' '));
const STOPS = new Set('the a an of in on at to for from by with about into over under and or this that these those its their his her'.split(' '));
const PERSON_NOUNS = /^(minister|secretary|chancellor|leader|leaders|person|people|man|woman|mp|mps|mayor|president|king|queen|prince|princess|author|writer|chairman|chair|chairwoman|councillor|officer|actor|actress|singer|player|founder|inventor|director|ceo|owner|composer|painter|poet|scientist|emperor|pope|governor|senator|judge|captain|coach|wife|husband|son|daughter|father|mother|brother|sister)$/;
const ORGANISATION_NOUNS = /^(council|councils|company|companies|party|parties|organisation|organization|body|bodies|authority|authorities|force|team|teams|group|agency|department|university|partnership|firm|band|club|network|channel|airline|bank|charity|union|newspaper|school|college)$/;
const PLACE_NOUNS = /^(city|cities|town|towns|county|counties|country|countries|place|places|region|state|states|area|river|island|continent|capital|village|port|airport|street|mountain|lake|ocean|sea)$/;
const DATE_NOUNS = /^(year|years|date|day|month|century|decade|time|season|era|period)$/;
const QUANTITY_NOUNS = /^(percentage|percent|proportion|share|amount|number|size|length|height|weight|distance|population|cost|price|budget|speed|age|temperature|area|depth|value)$/;

/** The word after a wh-word and its auxiliaries and determiners up to the head noun: "which government minister was" -> "minister". */
function headNoun(tokens: string[], from: number): string | null {
  let i = from;
  while (i < tokens.length && (AUXILIARY.has(tokens[i]) || STOPS.has(tokens[i]))) i++;
  let head: string | null = null;
  for (let n = 0; i < tokens.length && n < 3; i++, n++) {
    const t = tokens[i];
    if (AUXILIARY.has(t) || STOPS.has(t) || /^\d+$/.test(t)) break;
    if (n > 0 && /(ed|ing)$/.test(t) && t.length > 4) break;
    head = t;
  }
  return head;
}

/** The expected answer type and the head noun, from the question's opening words. */
function readType(tokens: string[]): { type: AnswerType; head: string | null } {
  const [first, second] = tokens;
  if (!first) return { type: 'other', head: null };
  if (first === 'how') {
    if (second === 'many') return { type: 'number', head: headNoun(tokens, 2) };
    if (second && /^(much|long|far|big|old|tall|large|fast|high|deep|wide|heavy|often|hot|cold|small)$/.test(second)) return { type: 'quantity', head: headNoun(tokens, 2) };
    return { type: 'manner', head: headNoun(tokens, 1) };
  }
  // "who is the leader of ..." names a focus; "who won ..." does not.
  const copulaHead = () => (AUXILIARY.has(second ?? '') ? headNoun(tokens, 1) : null);
  if (first === 'when') return { type: 'date', head: copulaHead() };
  if (first === 'where') return { type: 'place', head: copulaHead() };
  if (first === 'why') return { type: 'cause', head: copulaHead() };
  // "Who is Ken Thornber" asks to describe someone, as "what is" does something.
  if (first === 'who' && /^(is|was|are|were)$/.test(second ?? '') && tokens.length <= 6 && !/^(the|a|an)$/.test(tokens[2] ?? '')) return { type: 'definition', head: copulaHead() };
  if (first === 'who' || first === 'whom' || first === 'whose') return { type: 'person', head: copulaHead() };
  if (AUXILIARY.has(first)) return { type: 'yesno', head: headNoun(tokens, 1) };
  if (first === 'what' || first === 'which' || (first === 'in' && (second === 'what' || second === 'which'))) {
    const start = first === 'in' ? 2 : 1;
    const head = headNoun(tokens, start);
    const copula = AUXILIARY.has(tokens[start] ?? '');
    if (head && !copula) {
      if (DATE_NOUNS.test(head)) return { type: 'date', head };
      if (PERSON_NOUNS.test(head)) return { type: 'person', head };
      if (ORGANISATION_NOUNS.test(head)) return { type: 'organisation', head };
      if (PLACE_NOUNS.test(head)) return { type: 'place', head };
      if (QUANTITY_NOUNS.test(head)) return { type: 'quantity', head };
    }
    if (head && copula && QUANTITY_NOUNS.test(head)) return { type: 'quantity', head };
    if (/\b(caused?|causes|led to|reason)\b/.test(tokens.join(' '))) return { type: 'cause', head };
    // "what is the Heart of Wessex", "what are glacier caves": a thing to define.
    if (copula && tokens.length - start <= 6) return { type: 'definition', head };
    return { type: 'other', head };
  }
  if (first === 'define' || first === 'meaning') return { type: 'definition', head: headNoun(tokens, 1) };
  return { type: 'other', head: null };
}

const WH_WORDS = new Set(['who', 'whom', 'whose', 'what', 'which', 'when', 'where', 'why', 'how']);

/** A question's words, past any opening quote: its first ones say what kind of question it is. */
const wordsOf = (text: string) => words(text.replace(/^["'“‘\s]+/, ''));

/**
 * Whether a query is put as a question (it ends with "?", or opens with a wh-word, "in what/which",
 * or an auxiliary verb), rather than as a statement (SciFact's claims) or a few keywords: the
 * reader was trained on questions, and re-orders passages only for them.
 */
export function isQuestion(text: string): boolean {
  if (/\?\s*$/.test(text)) return true;
  const [first, second] = wordsOf(text);
  return !!first && (WH_WORDS.has(first) || AUXILIARY.has(first) || (first === 'in' && (second === 'what' || second === 'which')));
}

/** Reads a question: its expected answer type, its focus, its terms and the names it mentions. */
export function readQuestion(text: string): Question {
  const tokens = wordsOf(text);
  const { type, head } = readType(tokens);
  // A name is a capitalised word that is not the question's first word ("Roy Perry", "Wiltshire"), or an acronym.
  const names = [...text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)]
    .filter((m) => m.index! > 0 && /^(\p{Lu}|\d{4}$)/u.test(m[0]) && !AUXILIARY.has(m[0].toLowerCase()))
    .flatMap((m) => words(m[0]));
  const joined = ` ${tokens.join(' ')} `;
  const tense = /\b(used to|years ago|previously|formerly|originally|once|in the past)\b/.test(joined) ? 'past' : / (now|currently|today|nowadays|these days|at present) /.test(joined) ? 'present' : null;
  return { text, type, focus: head ? (lexicalTerms(head)[0] ?? null) : null, terms: queryTerms(text), names: [...new Set(names)], tense };
}
