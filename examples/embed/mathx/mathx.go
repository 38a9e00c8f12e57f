// Package mathx is the compiled code of the embedding example: small
// number functions whose interpreted versions are slow in the shell. Its
// API uses only numbers and slices, which cross nodes as they are (a
// struct would arrive at a peer as a map of its fields).
package mathx

// Fib returns the n-th Fibonacci number, computed the slow, recursive way
// on purpose: Fib(25) makes 242,785 calls, which show the cost of
// interpreting them.
func Fib(n int) int {
	if n < 2 {
		return n
	}
	return Fib(n-1) + Fib(n-2)
}

// IsPrime reports whether n is prime, by trial division.
func IsPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// Primes returns the primes below n, in order.
func Primes(n int) []int {
	var ps []int
	for i := 2; i < n; i++ {
		if IsPrime(i) {
			ps = append(ps, i)
		}
	}
	return ps
}

// Sum returns the sum of xs.
func Sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
