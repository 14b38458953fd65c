// GridHall page behaviour. Every page works without this script; it only
// adds conveniences. It is a file of its own, with no inline handlers,
// because the Content-Security-Policy forbids inline script.
(function () {
  'use strict';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    // Forms that change something hard to undo (disabling an account) ask
    // first; the question comes translated in data-confirm.
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A second click while the first submission is on its way would send
    // the form twice; older users often double-click buttons.
    if (form.getAttribute('data-submitting') === 'true') {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-submitting', 'true');
  });

  // A page restored from the back/forward cache must accept submissions again.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('form[data-submitting]').forEach(function (form) {
      form.removeAttribute('data-submitting');
    });
  });
})();
