"""What a run publishes, from its results (reports/ in a checkout holds only their output):

- ``merge``: the verdict of several runs (the nightly's shards) merged into one;
- ``matrix``: the requirement matrix as files (Markdown, the report's requirements page);
- ``allure_meta``: what the results folder carries for Allure (environment, categories,
  executor) and the reader's view of each result as allure-pytest writes it;
- ``builder``: the Allure 2 report (folder and single file), history, self-containment;
- ``allure_tool``: the generator, found or installed into the user's cache;
- ``scan``: secrets left in anything a run wrote (traces' zip members included).
"""
