/** Client-side routing under /console with the History API; links stay real links. */
import { useEffect, useState } from 'preact/hooks';

/** Goes to a console path without reloading the page. */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('slipway:navigate'));
}

/** The current path, updated on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener('slipway:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('slipway:navigate', update);
    };
  }, []);
  return path;
}

/** Intercepts clicks on same-origin /console links so they route in place. */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    const a = (event.target as Element | null)?.closest?.('a');
    if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const href = a.getAttribute('href');
    if (!href?.startsWith('/console') || a.hasAttribute('download') || a.target) return;
    event.preventDefault();
    navigate(href);
  });
}
