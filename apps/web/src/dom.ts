/** The pages' elements exist by construction; a missing one is a build mistake worth failing loudly on. */
export function byId<T extends HTMLElement | SVGElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as unknown as T;
}

export function show(element: HTMLElement, visible = true): void {
  element.hidden = !visible;
}

/** Moves focus to a panel that just appeared, so keyboard and screen-reader users land on it. */
export function reveal(element: HTMLElement): void {
  element.hidden = false;
  element.focus();
}

/** Puts a message in an alert box, with a "Try again" button when there is something to retry. */
export function showError(box: HTMLElement, message: string, retry?: () => void): void {
  box.replaceChildren(message);
  if (retry) {
    const again = document.createElement('button');
    again.type = 'button';
    again.textContent = 'Try again';
    again.addEventListener('click', retry);
    box.append(' ', again);
  }
  box.hidden = false;
}

export function hideError(box: HTMLElement): void {
  box.hidden = true;
  box.replaceChildren();
}
