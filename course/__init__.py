"""A course in a box: build the students' starter and the autograder from the
reference, and grade submissions. Run as ``python -m course``; see README.md."""
