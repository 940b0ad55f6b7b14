// The passcode as the staging personality (and the fault passcode-digit-boxes, A11Y-4) shows
// it: one box per digit, typing moving on from box to box (a fast-typed or pasted code is
// spread), the boxes joined on submit; and in a form marked data-auto-submit (--auto-submit),
// sent by itself once the code is complete, in boxes or in one field.
(() => {
  const group = document.currentScript.previousElementSibling;
  const form = group.closest("form");
  const boxes = [...group.querySelectorAll(".boxes input")];
  const single = boxes.length ? null : group.querySelector("input:not([type=hidden])");
  const code = () => (single ? single.value : boxes.map((box) => box.value).join(""));
  const goOn = () => {
    if (!form.hasAttribute("data-auto-submit") || form.dataset.sent) return;
    if (code().length === Number(group.dataset.digits)) {
      form.dataset.sent = "true";
      form.requestSubmit();
    }
  };
  boxes.forEach((box, index) => box.addEventListener("input", () => {
    const typed = box.value.replace(/\D/g, "");
    box.value = typed.slice(0, 1);
    [...typed.slice(1)].forEach((digit, n) => { if (boxes[index + 1 + n]) boxes[index + 1 + n].value = digit; });
    const next = boxes[Math.min(index + typed.length, boxes.length - 1)];
    if (typed && next !== box) next.focus();
    goOn();
  }));
  if (single) single.addEventListener("input", goOn);
  form.addEventListener("submit", () => {
    if (!single) group.querySelector("input[type=hidden]").value = code();
  });
})();
