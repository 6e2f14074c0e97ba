// The formgrader's manual-grading page without inline script (medai_edu_ops.grading.formgrader_csp):
// the values nbgrader's template wrote into inline <script> come from this tag's data attributes,
// and the handlers it wrote inline are attached here.
(function () {
  var data = document.currentScript.dataset;
  window.submission_id = data.submissionId;
  window.notebook_id = data.notebookId;
  window.assignment_id = data.assignmentId;
  window.base_url = data.baseUrl;
})();

function toggle_name(on) {
  $(".name-shown").tooltip("hide");
  $(".name-hidden").tooltip("hide");
  $(on ? ".name-shown" : ".name-hidden").show();
  $(on ? ".name-hidden" : ".name-shown").hide();
}

$(document).ready(function () {
  $("[data-link]").each(function () {
    $(this).map(linkTo("notebook", $(this).data("link"))).removeAttr("data-link");
  });
  $("span.glyphicon.name-hidden").tooltip({title: "Show student name", placement: "bottom", trigger: "hover"});
  $("span.glyphicon.name-shown").tooltip({title: "Hide student name", placement: "bottom", trigger: "hover"});
  $("[data-show-name]").on("click", function () {
    toggle_name($(this).data("show-name") === true);
  });
});
