/* global document, getComputedStyle, NodeFilter */
// Evaluated in the page by the end-to-end test (as text, outside the page's CSP): every visible
// text node whose colour against its background is below WCAG 2.2 AA, 4.5:1 (3:1 for large text).
// Its value is the failures as readable lines; none is the pass.
(() => {
  const parse = (css) => {
    const match = /rgba?\(([^)]+)\)/.exec(css);
    if (!match) return null;
    const [r, g, b, a = 1] = match[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r, g, b, a };
  };
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const backgroundOf = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a === 1) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const text = (node.textContent || '').trim();
    if (!element || text === '' || !element.checkVisibility({ opacityProperty: true })) continue;
    // disabled controls are exempt (WCAG 1.4.3); hidden-but-announced text is not seen
    if (element.closest('button:disabled, .visually-hidden, svg')) continue;
    const style = getComputedStyle(element);
    const bg = backgroundOf(element);
    const fg = parse(style.color) || { r: 0, g: 0, b: 0, a: 1 };
    const mix = (k) => fg[k] * fg.a + bg[k] * (1 - fg.a);
    const [hi, lo] = [luminance({ r: mix('r'), g: mix('g'), b: mix('b') }), luminance(bg)].sort(
      (x, y) => y - x,
    );
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      failures.push(`${ratio.toFixed(2)}:1 ${element.tagName} "${text.slice(0, 40)}"`);
  }
  return failures;
})();
