// @ts-check
/**
 * Building DOM nodes without parsing markup: every string goes in as text, so a customer's name or any
 * other field can never become markup (and the strict CSP has nothing inline to allow).
 */

/** @typedef {string | number | boolean | null | undefined} AttributeValue */
/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttributeValue>} [attributes] `class`, `for`, `aria-*`, `data-*`, …;
 *   `hidden`/`disabled` as booleans; null, undefined and false leave the attribute out
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

/**
 * A table's header row: one column heading per entry; a `num` column is right-aligned like its
 * figures.
 * @param {...{ label: Child, num?: boolean }} columns
 * @returns {HTMLTableSectionElement}
 */
export function tableHead(...columns) {
  return h(
    'thead',
    {},
    h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))),
  );
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {string} tag
 * @param {Record<string, AttributeValue>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {SVGElement}
 */
export function svg(tag, attributes = {}, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

/**
 * @param {Element} element
 * @param {Record<string, AttributeValue>} attributes
 */
function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} element
 * @param {(Child | Child[])[]} children
 */
function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's content.
 * @param {Element} element
 * @param {...(Child | Child[])} children
 */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * The element with this id; a missing one is a bug in index.html, so it throws.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return element;
}
