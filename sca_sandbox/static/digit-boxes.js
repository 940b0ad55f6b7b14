// The fault passcode-digit-boxes (A11Y-4): one box per digit, no label; typing moves on from
// box to box (a fast-typed or pasted code is spread), the boxes are joined on submit.
(() => {
  const group = document.currentScript.previousElementSibling;
  const boxes = [...group.querySelectorAll(".boxes input")];
  boxes.forEach((box, index) => box.addEventListener("input", () => {
    const typed = box.value.replace(/\D/g, "");
    box.value = typed.slice(0, 1);
    [...typed.slice(1)].forEach((digit, n) => { if (boxes[index + 1 + n]) boxes[index + 1 + n].value = digit; });
    const next = boxes[Math.min(index + typed.length, boxes.length - 1)];
    if (typed && next !== box) next.focus();
  }));
  group.closest("form").addEventListener("submit", () => {
    group.querySelector("input[type=hidden]").value = boxes.map((box) => box.value).join("");
  });
})();
