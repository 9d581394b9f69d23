// Starts Swagger UI on /docs (a file, not an inline script: the page runs under a
// Content-Security-Policy without 'unsafe-inline').
window.addEventListener("DOMContentLoaded", function () {
  var target = document.getElementById("swagger-ui");
  if (!target || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  target.textContent = "";
  window.ui = window.SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    deepLinking: true,
    // No badge from the public validator: nothing may be fetched from another host.
    validatorUrl: null,
    tryItOutEnabled: false,
  });
});
