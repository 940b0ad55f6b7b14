"""The scripts the accessibility probes run in the page (Playwright's `evaluate`): what
the keyboard reaches and where the focus is, where a refusal shows, how an element is
described in a finding. Each starts from `COMMON`, which walks open shadow roots."""

COMMON = r"""
const norm = (text) => (text || '').replace(/\s+/g, ' ').trim();
const deepActive = () => {
  let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) {
    active = active.shadowRoot.activeElement;
  }
  return active;
};
const up = (node) => node.parentElement || (node.getRootNode && node.getRootNode().host) || null;
const tag = (node) => {
  if (!node || !node.outerHTML) return String(node);
  const html = node.outerHTML;
  const open = html.slice(0, html.indexOf('>') + 1);
  const text = norm(node.textContent).slice(0, 40);
  return (open.length > 120 ? open.slice(0, 117) + '...>' : open) + (text ? ` "${text}"` : '');
};
const everything = () => {
  const found = [];
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      found.push(element);
      if (element.shadowRoot) visit(element.shadowRoot);
    }
  };
  visit(document);
  return found;
};
const visible = (element) =>
  element.checkVisibility({visibilityProperty: true, opacityProperty: false});
const FIELD = 'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])'
  + ':not([type=image]), select, textarea, [role=textbox], [role=combobox], [role=searchbox],'
  + ' [role=spinbutton]';
"""

CONTROLS = "() => {" + COMMON + r"""
const CONTROL = 'a[href], area[href], button, input:not([type=hidden]), select, textarea,'
  + ' summary, [contenteditable=""], [contenteditable=true], [role=button], [role=link],'
  + ' [role=menuitem], [role=menuitemcheckbox], [role=menuitemradio], [role=checkbox],'
  + ' [role=radio], [role=switch], [role=tab], [role=textbox], [role=combobox],'
  + ' [role=searchbox], [role=slider], [role=spinbutton], [onclick]';
const COMPOSITE = '[role=menu], [role=menubar], [role=listbox], [role=tablist],'
  + ' [role=radiogroup], [role=grid], [role=tree], [role=toolbar]';
const usable = (element) => visible(element) && !element.matches(':disabled')
  && element.getAttribute('aria-disabled') !== 'true' && !element.closest('[inert]');
const inControl = (element) => {
  for (let node = up(element); node; node = up(node)) if (node.matches(CONTROL)) return true;
  return false;
};
// What looks pressable without being a control: the outermost element showing a pointer.
const pointerOnly = (element) => !element.matches(CONTROL + ', label, html, body')
  && getComputedStyle(element).cursor === 'pointer'
  && !(up(element) && getComputedStyle(up(element)).cursor === 'pointer')
  && !inControl(element) && !element.querySelector(CONTROL) && norm(element.textContent);
  const all = everything().filter(usable);
  const controls = all.filter((element) => element.matches(CONTROL) || pointerOnly(element)
    || (element.hasAttribute('tabindex') && element.tabIndex >= 0));
  const groupOf = (element) => {
    const composite = element.closest(COMPOSITE);
    if (composite) return composite;
    if (element.matches('input[type=radio][name]')) return element.form || element.getRootNode();
    return null;
  };
  window.__scaA11y = {controls, groups: controls.map(groupOf), first: null};
  return controls.map(tag);
}"""
"""Every control a person can use on the page, remembered for the Tab walk."""

TAB_STEP = "() => {" + COMMON + r"""
  const state = window.__scaA11y;
  const active = deepActive();
  const nowhere = !active || active === document.body || active === document.documentElement;
  const index = (element) => state.controls.indexOf(element);
  const answer = {index: nowhere ? -1 : index(active), element: nowhere ? null : tag(active),
                  group: -1, round: false};
  if (!nowhere && !state.first) state.first = active;
  else if (!nowhere && active === state.first) answer.round = true;  // back where it began
  if (!nowhere && answer.index < 0) {
    answer.group = state.groups.findIndex((group) => group && group.contains(active));
  }
  return answer;
}"""
"""After a Tab: the control now focused (its index, or its composite's)."""

FOCUS_REGION = "(margin) => {" + COMMON + r"""
  const active = deepActive();
  if (!active || active === document.body || active === document.documentElement) return null;
  // The control and its parent (an indicator drawn with :focus-within), a few pixels round.
  const boxes = [active.getBoundingClientRect()];
  const parent = up(active);
  if (parent && parent.nodeType === 1 && !['BODY', 'HTML'].includes(parent.tagName)) {
    boxes.push(parent.getBoundingClientRect());
  }
  const x = Math.max(0, Math.min(...boxes.map((b) => b.left)) - margin);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.top)) - margin);
  const right = Math.min(innerWidth, Math.max(...boxes.map((b) => b.right)) + margin);
  const bottom = Math.min(innerHeight, Math.max(...boxes.map((b) => b.bottom)) + margin);
  if (right - x < 1 || bottom - y < 1) return null;
  window.__scaA11yFocused = active;
  return {x, y, width: right - x, height: bottom - y};
}"""
"""The focused control's neighbourhood in the viewport (None when it shows nowhere)."""

BLUR = "() => { const element = window.__scaA11yFocused; if (element) element.blur(); }"
REFOCUS = ("() => { const element = window.__scaA11yFocused; window.__scaA11yFocused = null;"
           " if (element && element.isConnected) element.focus(); }")
FOCUS_MARGIN = 8
"""CSS pixels round a focused control (and its parent) where its indicator may be drawn."""

IS_FOCUSED = "(element) => {" + COMMON + "return deepActive() === element; }"

FOCUS_PLACE = "(title) => {" + COMMON + r"""
  const active = deepActive();
  const fresh = !window.__scaA11yPressed;
  if (!active || active === document.body || active === document.documentElement) {
    return {place: 'start', fresh, element: 'the document itself'};
  }
  const all = everything().filter(visible);
  const heading = all.find((element) =>
    (/^H[1-6]$/.test(element.tagName) || element.getAttribute('role') === 'heading')
    && norm(element.getAttribute('aria-label') || element.textContent).toLowerCase()
      === norm(title).toLowerCase());  // the title in any case and white space
  if (heading && (active === heading || heading.contains(active) || active.contains(heading))) {
    return {place: 'heading', fresh, element: tag(active)};
  }
  const first = all.find((element) => element.matches(FIELD) && !element.matches(':disabled'));
  if (first && active === first) return {place: 'field', fresh, element: tag(active)};
  return {place: 'elsewhere', fresh, element: tag(active)};
}"""
"""Where the focus is on a step just shown: its heading (or a container starting with it),
its first field, the start of a new document, or elsewhere."""

REFUSAL_SHOWN = "(lines) => {" + COMMON + r"""
  const holding = (element, line) => norm(element.textContent).includes(line);
  const holders = [];
  for (const line of lines) {
    const withLine = everything().filter((element) => holding(element, line) && visible(element));
    holders.push(...withLine.filter(
      (element) => ![...element.children].some((child) => holding(child, line))));
  }
  return holders.map(tag).join(', ') || 'no element found';
}"""
"""Where a refusal's text shows on the page (the innermost elements holding its lines)."""


DESCRIBE = "(element) => {" + COMMON + "return tag(element); }"


MOVED_ON = ("() => !window.__scaA11yPressed || !window.__scaA11yTarget"
            " || !window.__scaA11yTarget.isConnected || !window.__scaA11yTarget.checkVisibility()")
"""The page moved on from the control pressed: a new document, or the control gone."""
