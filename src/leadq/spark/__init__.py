"""The Spark engine: the same scoring models and predictive models over tables too big for one
machine. Importing ``leadq.spark.rules`` or ``leadq.spark.predictive`` needs PySpark (the
``leadq[spark]`` extra); ``leadq.spark.session`` says clearly what is missing."""
