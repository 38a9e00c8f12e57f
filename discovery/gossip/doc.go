// Package gossip finds nodes through gossip membership: a
// hashicorp/memberlist cluster (SWIM with Lifeguard's refinements) in
// which every member carries its node name as metadata. A member joins
// through any member it is given; a member that dies is probed, suspected
// and declared failed, and leaves the set; one that restarts joins again
// as a new member. This is the only package that imports memberlist.
package gossip
