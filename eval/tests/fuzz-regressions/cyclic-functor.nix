let x = { __functor = self: x; }; in x 1
